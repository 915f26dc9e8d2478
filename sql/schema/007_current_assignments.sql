-- Delta writes (issue 22): a run no longer stores a full copy of every segment's assignment.
-- current_assignments holds the latest successful run's assignment of every segment (what
-- feedback_themes and the next run read); each run updates only the rows that changed, in its own
-- transaction. `assignments` becomes the log: per run, the rows that run changed (new segments, a new
-- theme, tone or type) and `how = 'removed'` for segments it no longer covers. A run's full state is
-- `assignments_as_of(run_id)` (the latest log row per segment up to that run). Runs written before
-- this migration logged every row, which the same rule reads correctly.
CREATE TABLE IF NOT EXISTS current_assignments (
    segment_id       VARCHAR PRIMARY KEY,
    run_id           VARCHAR NOT NULL,      -- the run that last changed this row
    theme_id         VARCHAR,
    how              VARCHAR NOT NULL,
    sentiment        VARCHAR NOT NULL,
    sentiment_score  DOUBLE NOT NULL,
    llm_sentiment    VARCHAR,
    content_hash     VARCHAR,
    feedback_type    VARCHAR
);
INSERT INTO current_assignments
SELECT segment_id, run_id, theme_id, how, sentiment, sentiment_score, llm_sentiment, content_hash, feedback_type
FROM assignments
WHERE run_id = (SELECT run_id FROM runs WHERE status = 'success' ORDER BY finished_at DESC, run_id DESC LIMIT 1);
