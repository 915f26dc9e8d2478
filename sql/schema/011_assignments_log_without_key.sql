-- The assignments log loses its primary key (issue 18, 10M items). It is append-only, and each run writes
-- its rows once, in the transaction that marks the run successful (runstore.finish_run), so the key guarded
-- nothing; but a full run's write kept an index entry of every segment in memory until COMMIT: the write of
-- a 600k-segment run ran out of a 100 MB memory_limit with it and passes without it (the proportion of 10M
-- segments to the 1 GB default). A DuckLake never had the key:
-- not on a lake
CREATE TABLE assignments_log (
    run_id           VARCHAR NOT NULL,
    segment_id       VARCHAR NOT NULL,
    theme_id         VARCHAR,
    how              VARCHAR NOT NULL,
    sentiment        VARCHAR NOT NULL,
    sentiment_score  DOUBLE NOT NULL,
    llm_sentiment    VARCHAR,
    content_hash     VARCHAR,
    feedback_type    VARCHAR
);
INSERT INTO assignments_log BY NAME SELECT * FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_log RENAME TO assignments;
