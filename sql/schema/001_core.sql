-- Core tables. Migrations: discovery.store.migrate() applies sql/schema/NNN_*.sql in order, each once per
-- database, recording it in schema_version. Add a new file for every change; never edit one in meaning.

-- One row per stored feedback item (contract table).
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id   VARCHAR PRIMARY KEY,      -- sha1(source, external_id), stable across reruns
    source        VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,         -- review | ticket | transcript
    external_id   VARCHAR NOT NULL,         -- id from the source, else the content hash
    text          VARCHAR NOT NULL,         -- the text as ingested (transcripts: customer turns only)
    created_at    TIMESTAMP,
    author        VARCHAR,
    rating        DOUBLE,
    metadata      JSON,                     -- every unmapped input column
    content_hash  VARCHAR NOT NULL,         -- sha1 of the normalised text, for content dedupe
    ingested_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per rejected input row (contract table).
CREATE TABLE IF NOT EXISTS rejected_rows (
    source       VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    raw          VARCHAR,                   -- the row as read, truncated to 10,000 characters
    file         VARCHAR,
    line         BIGINT,
    rejected_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Cleaned, redacted units of meaning cut from feedback; what gets embedded and clustered.
CREATE TABLE IF NOT EXISTS segments (
    segment_id    VARCHAR PRIMARY KEY,      -- feedback_id || ':' || segment
    feedback_id   VARCHAR NOT NULL,
    segment       INTEGER NOT NULL,         -- 0-based position within the feedback item
    text          VARCHAR NOT NULL,         -- cleaned and PII-redacted: the only text that is embedded or shown
    original_text VARCHAR,                  -- cleaned, not redacted (NULL when store_original = false)
    content_hash  VARCHAR NOT NULL,         -- sha1 of text: the embedding cache key
    pii_found     VARCHAR[]                 -- kinds of PII redacted from this segment
);

-- Embedding cache keyed by (content hash, model): a rerun embeds only new text.
CREATE TABLE IF NOT EXISTS embeddings (
    content_hash  VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    vector        FLOAT[] NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (content_hash, model)
);

-- One row per discovery run. Views read the latest run whose status is 'success'.
CREATE TABLE IF NOT EXISTS runs (
    run_id        VARCHAR PRIMARY KEY,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL,         -- running | success | failed | abandoned (its process died)
    error         VARCHAR,
    flow_run_id   VARCHAR,
    params        JSON,
    stats         JSON                      -- counts and durations per stage
);

-- Per-run theme table: the ranked pain points of that run, score components as columns.
CREATE TABLE IF NOT EXISTS theme_snapshots (
    run_id          VARCHAR NOT NULL,
    theme_id        VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    description     VARCHAR,
    keywords        VARCHAR[],
    items           INTEGER NOT NULL,       -- segments in the theme
    feedback_items  INTEGER NOT NULL,       -- distinct feedback items in the theme
    share           DOUBLE NOT NULL,        -- items / all segments of the run
    weighted_share  DOUBLE NOT NULL,        -- share with per-source weights applied
    negative_share  DOUBLE NOT NULL,
    avg_sentiment   DOUBLE NOT NULL,
    trend           DOUBLE,                 -- recent vs earlier share growth; NULL without timestamps
    trend_factor    DOUBLE NOT NULL,
    score           DOUBLE NOT NULL,
    rank            INTEGER NOT NULL,
    example_quotes  VARCHAR[],
    sources         VARCHAR[],
    label_method    VARCHAR NOT NULL,       -- offline | llm | curated (renamed by a PM)
    PRIMARY KEY (run_id, theme_id)
);

-- Per-run segment → theme assignment with per-segment sentiment.
CREATE TABLE IF NOT EXISTS assignments (
    run_id           VARCHAR NOT NULL,
    segment_id       VARCHAR NOT NULL,
    theme_id         VARCHAR,               -- NULL = unassigned
    how              VARCHAR NOT NULL,      -- full run: cluster | reassigned | assigned | outlier;
                                            -- incremental run: kept | assigned | cluster | reassigned | outlier
    sentiment        VARCHAR NOT NULL,
    sentiment_score  DOUBLE NOT NULL,
    x                DOUBLE,                -- never written; dropped by 004_drop_map_columns.sql
    y                DOUBLE,
    PRIMARY KEY (run_id, segment_id)
);
