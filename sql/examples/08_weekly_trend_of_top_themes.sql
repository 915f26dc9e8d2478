-- Weekly volume of the five top-ranked themes.
SELECT t.label, t.period_start AS week, t.items, round(t.negative_share, 2) AS negative_share
FROM theme_trends t
JOIN pain_points p USING (theme_id)
WHERE t.period = 'week' AND p.rank <= 5
ORDER BY t.label, week;
