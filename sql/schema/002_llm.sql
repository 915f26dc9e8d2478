-- LLM theme naming (issue #3): every call audited, responses cached by a hash of (model, prompt inputs).

CREATE TABLE IF NOT EXISTS llm_calls (
    call_id      VARCHAR PRIMARY KEY,
    run_id       VARCHAR,
    cache_key    VARCHAR NOT NULL,          -- sha256 of (model, prompt version, prompt inputs)
    model        VARCHAR NOT NULL,
    base_url     VARCHAR,                   -- endpoint host only; never the key
    messages     JSON,                      -- exactly what was (or would have been) sent
    response     VARCHAR,                   -- raw reply text
    parsed       JSON,                      -- the validated result, NULL when unusable
    status       VARCHAR NOT NULL,          -- ok | cache_hit | error | invalid | budget
    error        VARCHAR,
    tokens_in    INTEGER NOT NULL DEFAULT 0,
    tokens_out   INTEGER NOT NULL DEFAULT 0,
    latency_ms   INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);

ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS label_offline VARCHAR;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS grounding DOUBLE;       -- label fit to members, see README
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS llm_sentiment VARCHAR;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS severity VARCHAR;
ALTER TABLE theme_snapshots ADD COLUMN IF NOT EXISTS category VARCHAR;
ALTER TABLE assignments ADD COLUMN IF NOT EXISTS llm_sentiment VARCHAR;  -- opt-in per-segment LLM sentiment
