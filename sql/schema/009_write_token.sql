-- One row every write transaction on a DuckLake updates first (store.transaction): DuckLake lets two
-- transactions that only insert commit side by side, each having checked "not stored yet" in its own
-- snapshot; two updates of one row conflict, so the later commit is retried on the newer snapshot.
-- A DuckDB file has one writer and never touches it.
CREATE TABLE IF NOT EXISTS write_token (
    id      INTEGER NOT NULL,
    writes  BIGINT NOT NULL
);
INSERT INTO write_token SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM write_token);
