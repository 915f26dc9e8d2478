-- Following themes over time (issue #4). Theme ids are stable across runs, so these read as history.

-- This run's emerging themes: new ones, and ones whose latest period spikes over their baseline.
CREATE OR REPLACE VIEW theme_alerts AS
SELECT overall_rank AS rank, theme_id, label, emerging_reason AS reason, recent_items, baseline_mean, growth,
       zscore, negative_share, items, example_quotes, theme_type, run_id
FROM latest_themes
WHERE emerging
ORDER BY (emerging_reason = 'spike') DESC, zscore DESC, rank;

-- One row per theme per successful run: how each theme's size, pain and rank moved.
CREATE OR REPLACE VIEW theme_history AS
SELECT t.theme_id, r.run_id, r.finished_at, t.label, t.items, t.share, t.negative_share, t.score, t.rank,
       t.status, t.emerging
FROM theme_snapshots t
JOIN runs r ON r.run_id = t.run_id AND r.status = 'success'
ORDER BY t.theme_id, r.finished_at;
