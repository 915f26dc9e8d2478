-- Named queries of discovery/digest.py: the weekly digest reads the public views of the latest run.

-- name: digest_run
SELECT r.run_id, r.finished_at, (SELECT count(*) FROM feedback) AS feedback_items
FROM latest_run r;

-- name: digest_pains
SELECT theme_id, label, items, negative_share, trend, trend_recent
FROM pain_points ORDER BY rank LIMIT $top;

-- name: digest_emerging
-- themes flagged emerging (new, or spiking over their baseline) by the latest run or by any successful run
-- since $since, still in the latest run: a digest covers a week of nightly runs, not only the last one
SELECT t.theme_id, t.label, t.items, t.theme_type, t.negative_share,
       CASE WHEN t.emerging THEN t.emerging_reason ELSE s.reason END AS reason,
       CASE WHEN t.emerging THEN t.recent_items ELSE s.recent_items END AS recent_items
FROM latest_themes t
LEFT JOIN (
    SELECT s.theme_id, arg_max(s.emerging_reason, r.finished_at) AS reason,
           arg_max(s.recent_items, r.finished_at) AS recent_items
    FROM theme_snapshots s JOIN runs r USING (run_id)
    WHERE r.status = 'success' AND r.finished_at >= $since AND s.emerging
    GROUP BY s.theme_id
) s USING (theme_id)
WHERE coalesce(t.emerging, false) OR s.theme_id IS NOT NULL
ORDER BY coalesce(t.emerging, false) DESC, recent_items DESC NULLS LAST, t.items DESC, t.theme_id
LIMIT $top;

-- name: digest_requests
SELECT theme_id, label, items, negative_share, trend, trend_recent
FROM feature_requests ORDER BY rank LIMIT $top;

-- name: digest_praise
SELECT theme_id, label, items, negative_share, trend, trend_recent
FROM praise ORDER BY rank LIMIT $top;

-- name: digest_issues
-- the latest issue each theme was pushed as (painpoints push), to show beside it
SELECT theme_id, arg_max(issue_key, pushed_at) AS issue_key, arg_max(url, pushed_at) AS url
FROM theme_issues GROUP BY theme_id;

-- name: digest_sent
SELECT sent_at, sent_by FROM digests WHERE week = $week;

-- name: record_digest
MERGE INTO digests d
USING (SELECT $week::DATE AS week, $now::TIMESTAMP AS sent_at, $run AS run_id, $themes AS themes, $by AS sent_by) n
ON d.week = n.week
WHEN MATCHED THEN UPDATE SET sent_at = n.sent_at, run_id = n.run_id, themes = n.themes, sent_by = n.sent_by
WHEN NOT MATCHED THEN INSERT BY NAME;
