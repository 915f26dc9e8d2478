-- The embedding cache and current_assignments lose their primary keys (issue 18, 10M items), as the
-- assignments log did in 011. DuckDB holds a key's whole index in memory, inside memory_limit and pinned,
-- from the first write to the table until the connection closes. A run's write adds a few vectors (its
-- label phrases) to the cache, and that loaded the index of every cached vector: 97 MB at 1M segments,
-- ~1 GB at 10M, the whole 1 GB default — the 10M write then failed in the MERGE into
-- current_assignments, whose own index took 68 MB more per million. Nothing relies on the keys:
-- insert_embeddings adds only hashes the cache lacks (NOT EXISTS, one row per hash), and
-- apply_changed_assignments MERGEs on segment_id — as on a DuckLake, which never had them.
-- not on a lake
CREATE TABLE embeddings_unkeyed (
    content_hash  VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    vector        FLOAT[] NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO embeddings_unkeyed BY NAME SELECT * FROM embeddings;
DROP TABLE embeddings;
ALTER TABLE embeddings_unkeyed RENAME TO embeddings;
CREATE TABLE current_assignments_unkeyed (
    segment_id       VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL,      -- the run that last changed this row
    theme_id         VARCHAR,
    how              VARCHAR NOT NULL,
    sentiment        VARCHAR NOT NULL,
    sentiment_score  DOUBLE NOT NULL,
    llm_sentiment    VARCHAR,
    content_hash     VARCHAR,
    feedback_type    VARCHAR
);
INSERT INTO current_assignments_unkeyed BY NAME SELECT * FROM current_assignments;
DROP TABLE current_assignments;
ALTER TABLE current_assignments_unkeyed RENAME TO current_assignments;
