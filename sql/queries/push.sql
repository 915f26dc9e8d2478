-- Named queries of painpoints/push.py: which issue a theme was pushed as.

-- name: pushed_issue
-- the latest issue filed for a theme in one tracker
SELECT issue_key, url, project, pushed_at
FROM theme_issues
WHERE theme_id = $theme AND target = $target
ORDER BY pushed_at DESC
LIMIT 1;

-- name: record_issue
INSERT INTO theme_issues (theme_id, target, issue_key, url, project, label, run_id, pushed_at)
VALUES ($theme, $target, $key, $url, $project, $label, $run, $now);
