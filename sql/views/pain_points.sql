-- One row per theme of the latest successful run, ordered by rank (contract view). Themes a PM hid
-- (`painpoints theme hide`) are left out.
-- score = 100 * weighted_share * (0.25 + 0.75 * negative_share) * trend_factor; see README "Ranking".
CREATE OR REPLACE VIEW pain_points AS
SELECT
    t.rank,
    t.theme_id,
    t.label,
    t.description,
    t.items,
    t.share,
    t.negative_share,
    t.avg_sentiment,
    t.trend,
    t.score,
    t.example_quotes,
    t.sources,
    t.keywords,
    t.feedback_items,
    t.weighted_share,
    t.trend_factor,
    t.label_method,
    t.label_offline,
    t.grounding,
    t.llm_sentiment,
    t.severity,
    t.category,
    t.status,               -- new | continuing | revived | split
    t.pinned,
    t.emerging,
    t.emerging_reason,      -- new | spike
    t.recent_items,
    t.baseline_mean,
    t.growth,
    t.zscore,
    t.run_id
FROM theme_snapshots t
JOIN latest_run r ON t.run_id = r.run_id
WHERE NOT coalesce(t.hidden, false)
ORDER BY t.rank;
