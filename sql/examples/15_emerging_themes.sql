-- What is new or spiking right now? This run's emerging themes, with how far above their baseline they are.
SELECT rank, theme_id, label, reason, recent_items, round(baseline_mean, 1) AS baseline_per_period,
       round(growth, 2) AS growth, round(zscore, 1) AS zscore, round(negative_share, 2) AS negative_share
FROM theme_alerts
ORDER BY zscore DESC;
