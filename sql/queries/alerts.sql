-- name: run_alerts
-- the emerging themes of one run (?), spikes first
SELECT theme_id, label, reason, recent_items, growth, zscore, negative_share, example_quotes
FROM theme_alerts
WHERE run_id = ?
ORDER BY (reason = 'spike') DESC, zscore DESC, rank;
