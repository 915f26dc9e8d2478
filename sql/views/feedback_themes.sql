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
FROM current_assignments a  -- the latest successful run's state (written with it, in its transaction)
CROSS JOIN latest_run r
JOIN segments s ON s.segment_id = a.segment_id
JOIN feedback f ON f.feedback_id = s.feedback_id
LEFT JOIN theme_snapshots t ON t.run_id = r.run_id AND t.theme_id = a.theme_id;

-- Any successful run's full assignment, from the log (issue 22: runs write only what changed): per
-- segment, the latest logged row up to that run, unless it was removed. `run_id` says which run last
-- changed the row. Runs whose log `painpoints prune` thinned can no longer be replayed.
CREATE OR REPLACE MACRO assignments_as_of(rid) AS TABLE
SELECT * EXCLUDE (n) FROM (
    SELECT a.*, row_number() OVER (PARTITION BY a.segment_id ORDER BY r.finished_at DESC, a.run_id DESC) AS n
    FROM assignments a
    JOIN runs r ON r.run_id = a.run_id
    WHERE r.status = 'success' AND r.finished_at <= (SELECT finished_at FROM runs WHERE run_id = rid)
      AND (SELECT pruned_at FROM runs WHERE run_id = rid) IS NULL  -- a pruned run cannot be replayed
)
WHERE n = 1 AND how <> 'removed';
