-- Re-rank in SQL: only count negative items and weight tickets double.
SELECT p.label, sum(CASE WHEN s.kind = 'ticket' THEN 2 ELSE 1 END * s.items * p.negative_share) AS my_score
FROM pain_points p
JOIN theme_sources s USING (theme_id)
GROUP BY p.label
ORDER BY my_score DESC
LIMIT 10;
