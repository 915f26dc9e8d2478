-- Out to the tools PMs use (issue 20, item 7). theme_issues: every issue `painpoints push` created for a
-- theme, so pushing the same theme to the same tracker again says "already pushed as KEY" instead of
-- filing a duplicate (`--again` adds another row). digests: one row per week the weekly digest went to
-- the webhook, so the nightly flow never sends it twice in a week.
CREATE TABLE IF NOT EXISTS theme_issues (
    theme_id    VARCHAR NOT NULL,
    target      VARCHAR NOT NULL,           -- jira | linear
    issue_key   VARCHAR NOT NULL,           -- ENG-123
    url         VARCHAR,                    -- where a person opens it
    project     VARCHAR,                    -- Jira project key / Linear team id it was filed in
    label       VARCHAR,                    -- the theme's label when pushed
    run_id      VARCHAR,                    -- the run whose numbers the issue quotes
    pushed_at   TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS digests (
    week        DATE PRIMARY KEY,           -- the week's first day: the latest digest_weekday on or before sending
    sent_at     TIMESTAMP NOT NULL,
    run_id      VARCHAR,                    -- the run it summarised
    themes      INTEGER NOT NULL,           -- themes it listed
    sent_by     VARCHAR NOT NULL            -- nightly | cli
);
