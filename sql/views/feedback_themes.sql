-- One row per segment of the latest successful run (contract view).
CREATE OR REPLACE VIEW latest_run AS
SELECT run_id, started_at, finished_at, params, stats
FROM runs
WHERE status = 'success'
ORDER BY finished_at DESC, run_id DESC
LIMIT 1;

CREATE OR REPLACE VIEW feedback_themes AS
SELECT
    f.feedback_id,
    s.segment,
    f.source,
    f.kind,
    f.external_id,
    f.created_at,
    s.text,
    a.theme_id,
    t.label AS theme_label,
    a.sentiment,
    a.sentiment_score,
    a.llm_sentiment,       -- NULL unless llm_segment_sentiment is on
    a.feedback_type,       -- problem | request | question | praise | other (NULL in runs before typing)
    t.area_id,             -- the theme's area (theme_areas)
    t.area_label
FROM assignments a
JOIN latest_run r ON a.run_id = r.run_id
JOIN segments s ON s.segment_id = a.segment_id
JOIN feedback f ON f.feedback_id = s.feedback_id
LEFT JOIN theme_snapshots t ON t.run_id = a.run_id AND t.theme_id = a.theme_id;
