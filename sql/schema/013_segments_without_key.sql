-- segments loses its primary key (issue 18, 10M items), for the reason of 011 and 012: the first insert
-- into a keyed table loads the key's whole index into memory_limit, and a nightly run's prepare step
-- inserts the new items' segments — at 10M stored segments that index alone filled the 1 GB default
-- ("could not allocate block", 953.6 of 953.6 MiB, on a +1% run). Prepare writes segments only for items
-- that have none (unsegmented_feedback) and ingest deletes an item's segments before they are cut again,
-- so nothing relied on the key, as on a DuckLake; segments are looked up by feedback_id or joined, never
-- by a point query on segment_id. `feedback` keeps its key: ingest updates and deletes items by id.
-- not on a lake
CREATE TABLE segments_unkeyed (
    segment_id    VARCHAR NOT NULL,         -- feedback_id || ':' || segment
    feedback_id   VARCHAR NOT NULL,
    segment       INTEGER NOT NULL,         -- 0-based position within the feedback item
    text          VARCHAR NOT NULL,         -- cleaned and PII-redacted: the only text that is embedded or shown
    original_text VARCHAR,                  -- cleaned, not redacted (NULL when store_original = false)
    content_hash  VARCHAR NOT NULL,         -- sha1 of text: the embedding cache key
    pii_found     VARCHAR[]                 -- kinds of PII redacted from this segment
);
INSERT INTO segments_unkeyed BY NAME SELECT * FROM segments;
DROP TABLE segments;
ALTER TABLE segments_unkeyed RENAME TO segments;
