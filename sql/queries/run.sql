-- Named statements of discovery/runinput.py (a run's input) and discovery/runstore.py (the run log, theme state, curation).
-- Loaded by store.sql(name); `snapshots`, `calls`, `state`, `events` are Arrow tables registered for the
-- statement by store.registered(); `write_chunk` is a local of runstore.write_assignments (see there why).

-- name: run_window
-- (a fragment the run_input_* statements include) the run's segments: those with a vector for the model ($1) within window_days
-- ($2, $3; NULL = all) of the newest item. "Has a vector" is an IN list, not a correlated EXISTS: with the
-- join to feedback, EXISTS ran out of a 100 MB memory_limit on 1M segments (the proportion of 10M to the
-- default 1 GB), IN passes at 100 MB
FROM segments s
JOIN feedback f USING (feedback_id)
WHERE s.content_hash IN (SELECT content_hash FROM embeddings WHERE model = $1)
  AND (CAST($2 AS INTEGER) IS NULL
   OR coalesce(f.created_at, f.ingested_at)
      >= (SELECT max(coalesce(created_at, ingested_at)) FROM feedback) - to_days(CAST($3 AS INTEGER)))

-- name: run_input_size
-- the run's segments counted
-- (the dimension comes from one vector: max(len(e.vector)) read every vector of the window, 15 GB at 10M).
SELECT count(*), (SELECT len(vector) FROM embeddings WHERE model = $1 LIMIT 1)
{{run_window}};

-- name: model_vectors
-- every cached vector of the model (?), unordered: runinput.read_vectors places them on the run's rows by
-- content hash: its DuckDB hash (key_hash) and MD5's lower 64 bits (key_check). A plain scan: the join with segments and feedback built
-- its hash table on the vectors (15 GB at 10M) and ran out of the 1 GB memory_limit
SELECT hash(content_hash) AS key_hash, md5_number_lower(content_hash) AS key_check, vector
FROM embeddings WHERE model = ?;

-- name: segment_texts_all
-- every segment's text, unordered: runinput.read_texts keeps the run's, placed by segment id (its two hashes)
SELECT hash(segment_id) AS key_hash, md5_number_lower(segment_id) AS key_check, text FROM segments;

-- name: run_ids_in_order
-- the run's segment ids (registered unordered as run_ids, with their row) in byte order: runinput.sorted_on_disk
-- puts every column of a big run's input in this order (DuckDB's sort spills; the ids sorted in memory were held twice)
SELECT key, row FROM run_ids ORDER BY key;

-- name: run_key_hashes
-- the two hashes of each of the run's keys (registered as run_keys), as model_vectors, segment_texts_all and
-- current_assignments give them (runinput.KeyIndex)
SELECT row, hash(key) AS key_hash, md5_number_lower(key) AS key_check FROM run_keys;

-- name: run_input_rows
-- the run's segments, without their vectors (runinput.read_vectors, or read on demand by an incremental run);
-- parameters as run_input_size. Unordered: runinput.load_run_input orders them by segment_id itself (this
-- ORDER BY, and the join where a semi-join suffices, ran out of a 200 MB memory_limit on 600k segments)
SELECT s.segment_id, s.feedback_id, f.source, f.created_at, s.text, s.content_hash, f.rating
{{run_window}};

-- name: run_input_keys
-- run_input_rows without the texts: past vectors_in_memory segments a run reads a text when a step needs
-- it (columns.StoredTexts); parameters and order as run_input_rows
SELECT s.segment_id, s.feedback_id, f.source, f.created_at, s.content_hash, f.rating
{{run_window}};

-- name: insert_run
INSERT INTO runs (run_id, started_at, status, flow_run_id, params)
VALUES (?, ?, 'running', ?, ?);

-- name: abandon_run
UPDATE runs SET status = 'abandoned', finished_at = ?, error = ?
WHERE run_id = ?;

-- name: run_overtaken
-- a successful run that finished after run ? started: ? computed its result from an older state
SELECT o.run_id
FROM runs o, runs r
WHERE r.run_id = $1 AND o.run_id <> $1 AND o.status = 'success' AND o.finished_at > r.started_at
ORDER BY o.finished_at DESC
LIMIT 1;

-- name: fail_run
UPDATE runs SET status = 'failed', finished_at = ?, error = ?
WHERE run_id = ?;

-- name: finish_run
UPDATE runs SET status = 'success', finished_at = ?, stats = ?
WHERE run_id = ?;

-- name: llm_cached
-- the parsed reply of the latest successful LLM call with this cache key
SELECT parsed
FROM llm_calls
WHERE cache_key = ? AND status = 'ok'
ORDER BY created_at DESC
LIMIT 1;

-- name: insert_llm_calls
INSERT INTO llm_calls BY NAME
SELECT * EXCLUDE (messages, parsed), messages::JSON AS messages, parsed::JSON AS parsed
FROM calls;

-- name: insert_theme_snapshots
INSERT INTO theme_snapshots BY NAME SELECT * FROM snapshots;

-- name: changed_assignments
-- a chunk of the run's rows (`write_chunk`: the segment ids in [$lo, $hi), runstore.write_assignments) that
-- differ from the current state (new segments; a new theme, tone, type or text); `how` alone does not
-- count: a kept segment keeps the row of the run that placed it
CREATE OR REPLACE TEMP TABLE changed_assignments AS
SELECT n.*
FROM write_chunk n
LEFT JOIN (
    SELECT * FROM current_assignments WHERE segment_id >= $lo AND ($hi IS NULL OR segment_id < $hi)
) c ON c.segment_id = n.segment_id
WHERE c.segment_id IS NULL
   OR c.theme_id IS DISTINCT FROM n.theme_id
   OR c.sentiment IS DISTINCT FROM n.sentiment
   OR c.sentiment_score IS DISTINCT FROM n.sentiment_score
   OR c.llm_sentiment IS DISTINCT FROM n.llm_sentiment
   OR c.feedback_type IS DISTINCT FROM n.feedback_type
   OR c.content_hash IS DISTINCT FROM n.content_hash;

-- name: log_changed_assignments
INSERT INTO assignments BY NAME
SELECT *, CAST($run AS VARCHAR) AS run_id FROM changed_assignments;

-- name: log_removed_assignments
-- segments in [$lo, $hi) the run no longer covers (e.g. out of window_days): a tombstone in the log
INSERT INTO assignments (run_id, segment_id, theme_id, how, sentiment, sentiment_score)
SELECT $run, segment_id, NULL, 'removed', 'neutral', 0.0
FROM current_assignments
WHERE segment_id >= $lo AND ($hi IS NULL OR segment_id < $hi)
  AND segment_id NOT IN (SELECT segment_id FROM write_chunk);

-- name: apply_removed_assignments
-- the tombstones of log_removed_assignments leave the current state
DELETE FROM current_assignments
WHERE segment_id >= $lo AND ($hi IS NULL OR segment_id < $hi)
  AND segment_id NOT IN (SELECT segment_id FROM write_chunk);

-- name: apply_changed_assignments
MERGE INTO current_assignments c
USING (SELECT *, CAST($run AS VARCHAR) AS run_id FROM changed_assignments) n ON c.segment_id = n.segment_id
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME;

-- name: insert_themes
INSERT INTO themes BY NAME SELECT * FROM state;

-- name: insert_theme_events
INSERT INTO theme_events BY NAME SELECT * FROM events;

-- name: mark_curation_applied
UPDATE curation SET applied_run = ? WHERE curation_id = ?;

-- name: known_themes
SELECT theme_id, label, label_method, status, centroid, description, merged_into, items, first_run, last_run,
       first_seen, last_seen, radius
FROM themes;

-- name: current_assignments
-- the latest successful run's assignment (what the next run builds on), unordered: runinput.load_last_run
-- places each row on the run's rows by segment id (its two hashes, key_hash and key_check); its text is the
-- same when its content hash's two hashes are (text_hash, text_check)
SELECT hash(segment_id) AS key_hash, md5_number_lower(segment_id) AS key_check, theme_id,
       hash(content_hash) AS text_hash, md5_number_lower(content_hash) AS text_check, feedback_type, sentiment,
       sentiment_score
FROM current_assignments;

-- name: previous_names
-- a run's theme names (an incremental run keeps those of themes that barely changed)
SELECT theme_id, label, description, keywords, example_quotes
FROM theme_snapshots
WHERE run_id = ?;

-- name: last_full_run
SELECT max(finished_at)
FROM runs
-- json_extract_string, not ->>: DuckLake 1.5.5 fails this filter written with ->> ("cast value to numerical")
WHERE status = 'success' AND json_extract_string(stats, 'mode') = 'full';

-- name: curation_rows
SELECT curation_id, action, theme_id, target_theme_id, value, applied_run
FROM curation
ORDER BY created_at, curation_id;

-- name: insert_curation
INSERT INTO curation (curation_id, action, theme_id, target_theme_id, value, note, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: latest_run
SELECT run_id, started_at, finished_at, stats FROM latest_run;

-- name: run_stats
SELECT stats FROM runs WHERE run_id = ?;

-- name: latest_run_vectors
-- the latest run's assigned segments with the vectors it clustered, in segment order
SELECT a.theme_id, e.vector
FROM current_assignments a
CROSS JOIN latest_run r
JOIN segments s USING (segment_id)
JOIN embeddings e ON e.content_hash = s.content_hash AND e.model = json_extract_string(r.stats, 'embed_model')
WHERE a.theme_id IS NOT NULL
ORDER BY a.segment_id;

-- name: known_areas
SELECT area_id, label, status, centroid, themes, first_run, last_run FROM areas;

-- name: insert_areas
INSERT INTO areas BY NAME SELECT * FROM area_state;

-- name: data_fingerprint
-- what a run reads, cheaply: items (an edited item is re-ingested with a new ingested_at) and the
-- curation actions only a run applies
SELECT count(*), max(ingested_at), (SELECT count(*) FROM curation WHERE action IN ('merge', 'split'))
FROM feedback;

-- name: skip_run
UPDATE runs SET status = 'skipped', finished_at = ?, stats = ? WHERE run_id = ?;

-- name: latest_run_params
SELECT run_id, params FROM latest_run;

-- name: run_status
SELECT status, stats FROM runs WHERE run_id = ?;
