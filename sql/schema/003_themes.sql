-- Stable themes across runs (issue #4): theme identity, events, PM curation, incremental sync state.

-- The current state of every theme ever found. Rewritten (in the same transaction as the run's
-- snapshot) by each successful run; a failed run never touches it.
CREATE TABLE IF NOT EXISTS themes (
    theme_id      VARCHAR PRIMARY KEY,      -- T001, T002… assigned once, never reused
    label         VARCHAR NOT NULL,         -- kept across runs once the theme is matched
    label_method  VARCHAR NOT NULL,         -- offline | llm | curated
    description   VARCHAR,
    status        VARCHAR NOT NULL,         -- active | dormant | merged | split
    merged_into   VARCHAR,                  -- status = merged: the theme that absorbed it
    centroid      FLOAT[],                  -- normalised mean embedding of its members in its last run
    radius        DOUBLE,                   -- 10th percentile of members' cosine to the centroid: how close
                                            -- a new item must be to join the theme in an incremental run
    items         INTEGER NOT NULL,         -- segments in its last run
    first_run     VARCHAR NOT NULL,
    last_run      VARCHAR NOT NULL,         -- last run in which it had members
    first_seen    TIMESTAMP NOT NULL,
    last_seen     TIMESTAMP NOT NULL
);

-- What happened to themes in each run: new, revived, dormant, split, merged, and curation applied.
CREATE TABLE IF NOT EXISTS theme_events (
    run_id          VARCHAR NOT NULL,
    theme_id        VARCHAR NOT NULL,
    event           VARCHAR NOT NULL,       -- new | revived | dormant | split | merged | curated
    other_theme_id  VARCHAR,                -- split: the parent; merged: the theme it went into
    share           DOUBLE,                 -- split/merged: share of items that moved
    detail          VARCHAR
);

-- Hand curation by PMs (`painpoints theme …`); applied by every later run.
CREATE TABLE IF NOT EXISTS curation (
    curation_id      VARCHAR PRIMARY KEY,
    action           VARCHAR NOT NULL,      -- rename | merge | split | pin | unpin | hide | unhide
    theme_id         VARCHAR NOT NULL,
    target_theme_id  VARCHAR,               -- merge: the theme that absorbs theme_id
    value            VARCHAR,               -- rename: the label; split: number of parts
    note             VARCHAR,
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    applied_run      VARCHAR                -- split: the run that performed it (splits apply once)
);

-- Incremental cursors of live connectors and the files already ingested.
CREATE TABLE IF NOT EXISTS sync_state (
    source      VARCHAR PRIMARY KEY,
    cursor      VARCHAR,                    -- connector-specific position (e.g. Zendesk after_cursor)
    updated_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    detail      JSON
);

CREATE TABLE IF NOT EXISTS ingested_files (
    source       VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    size         BIGINT,
    counts       JSON,
    ingested_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, path, sha256)
);

ALTER TABLE assignments ADD COLUMN IF NOT EXISTS content_hash VARCHAR;      -- lets a rerun reuse the assignment
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS status VARCHAR;        -- new | continuing | revived | split
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS pinned BOOLEAN;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS hidden BOOLEAN;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS recent_items INTEGER;   -- items in the last alert period
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS baseline_mean DOUBLE;  -- mean items per period before it
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS growth DOUBLE;         -- recent / baseline_mean − 1
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS zscore DOUBLE;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS emerging BOOLEAN;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS emerging_reason VARCHAR;  -- new | spike
ALTER TABLE themes ADD COLUMN IF NOT EXISTS radius DOUBLE;              -- databases made before radius existed
