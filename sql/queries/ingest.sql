-- Named statements of discovery/ingeststore.py (feedback, rejected rows, cursors, pulled files) and
-- discovery/segmentstore.py (segments, embeddings). Loaded by store.sql(name);
-- `batch` / `keys` are Arrow tables registered for the statement by store.registered().

-- name: insert_rejected
-- a re-ingest of the same file must not record the same rejection twice
INSERT INTO rejected_rows (source, reason, raw, file, line)
SELECT b.source, b.reason, b.raw, b.file, b.line
FROM batch b
WHERE NOT EXISTS (
    SELECT 1 FROM rejected_rows r
    WHERE r.source = b.source AND r.reason = b.reason AND r.raw IS NOT DISTINCT FROM b.raw
      AND r.file IS NOT DISTINCT FROM b.file AND r.line IS NOT DISTINCT FROM b.line
);

-- name: replace_feedback
UPDATE feedback
SET text = ?, created_at = ?, author = ?, rating = ?, metadata = ?::JSON, content_hash = ?, ingested_at = ?
WHERE feedback_id = ?;

-- name: set_cursor
-- MERGE, not ON CONFLICT: a DuckLake store has no primary keys to conflict on
MERGE INTO sync_state s
USING (SELECT ? AS source, ? AS cursor, ?::TIMESTAMP AS updated_at, ?::JSON AS detail) n ON s.source = n.source
WHEN MATCHED THEN UPDATE SET cursor = n.cursor, updated_at = n.updated_at, detail = n.detail
WHEN NOT MATCHED THEN INSERT BY NAME;

-- name: record_file
INSERT INTO ingested_files (source, path, sha256, size, counts, ingested_at)
SELECT * FROM (SELECT ? AS source, ? AS path, ? AS sha256, ? AS size, ?::JSON AS counts, ?::TIMESTAMP AS ingested_at) n
WHERE NOT EXISTS (
    SELECT 1 FROM ingested_files f WHERE f.source = n.source AND f.path = n.path AND f.sha256 = n.sha256
);

-- name: unsegmented_feedback
SELECT f.feedback_id, f.kind, f.text
FROM feedback f
WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.feedback_id = f.feedback_id);

-- name: texts_to_embed
-- the embedding cache lookup: segment texts with no vector for the model (?). min(), not any_value():
-- with a string any_value() this aggregate could not spill and ran out of a 100 MB memory_limit on
-- 600k segments (min() passes; the texts of one hash are equal), as 10M would out of 1 GB.
SELECT content_hash, min(text)
FROM segments s
WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.content_hash = s.content_hash AND e.model = ?)
GROUP BY content_hash
ORDER BY content_hash;

-- name: count_texts_to_embed
-- how many rows texts_to_embed has (?)
SELECT count(DISTINCT content_hash)
FROM segments s
WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.content_hash = s.content_hash AND e.model = ?);

-- name: insert_embeddings
-- a vector only where the cache has none: a shard stored twice is stored once (no ON CONFLICT: DuckLake)
INSERT INTO embeddings (content_hash, model, vector)
SELECT b.content_hash, $model, b.vector FROM batch b
WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.content_hash = b.content_hash AND e.model = $model);

-- name: segment_texts
-- the text of each content hash in the registered `keys` (the hash is of the text: any segment's will do;
-- min(), not any_value(): it spills to disk under a memory_limit)
SELECT s.content_hash, min(s.text) AS text
FROM segments s JOIN keys k USING (content_hash)
GROUP BY s.content_hash;

-- name: cached_vectors
SELECT e.content_hash, e.vector
FROM embeddings e JOIN keys k USING (content_hash)
WHERE e.model = ?;
