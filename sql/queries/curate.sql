-- Named queries of discovery/curate.py: curation that shows at once. Each statement changes the latest
-- successful run's snapshot of one theme ($theme) the way the next run will (which reads the curation
-- table again), so the views answer with it now and after every rerun.

-- name: curate_rename
UPDATE theme_snapshots SET label = $value, label_method = 'curated'
WHERE run_id = (SELECT run_id FROM latest_run) AND theme_id = $theme;

-- name: curate_hide
UPDATE theme_snapshots SET hidden = true WHERE run_id = (SELECT run_id FROM latest_run) AND theme_id = $theme;

-- name: curate_unhide
UPDATE theme_snapshots SET hidden = false WHERE run_id = (SELECT run_id FROM latest_run) AND theme_id = $theme;

-- name: curate_pin
UPDATE theme_snapshots SET pinned = true WHERE run_id = (SELECT run_id FROM latest_run) AND theme_id = $theme;

-- name: curate_unpin
UPDATE theme_snapshots SET pinned = false WHERE run_id = (SELECT run_id FROM latest_run) AND theme_id = $theme;

-- name: curate_move
UPDATE theme_snapshots SET area_id = $value, area_label = (SELECT label FROM areas WHERE area_id = $value)
WHERE run_id = (SELECT run_id FROM latest_run) AND theme_id = $theme;

-- name: curate_theme_facts
-- what a preview says about a theme of the latest run (hidden ones included)
SELECT t.theme_id, t.label, t.items, coalesce(t.theme_type, 'problem'), t.area_id, t.area_label, t.hidden, t.pinned
FROM theme_snapshots t JOIN latest_run r ON t.run_id = r.run_id
WHERE t.theme_id = ?;

-- name: curation_log
-- the audit log: every curation action, newest first, with the run that applied a split; and every issue
-- a theme was filed as (`painpoints push`: action 'push', value 'jira ENG-12', note the issue's URL)
SELECT * FROM (
    SELECT c.created_at, c.action, c.theme_id, c.target_theme_id, c.value, c.note, c.applied_run, c.curation_id
    FROM curation c
    UNION ALL
    SELECT i.pushed_at, 'push', i.theme_id, NULL, i.target || ' ' || i.issue_key, i.url, NULL,
           'push:' || i.target || ':' || i.issue_key
    FROM theme_issues i
)
ORDER BY created_at DESC, curation_id DESC
LIMIT ?;
