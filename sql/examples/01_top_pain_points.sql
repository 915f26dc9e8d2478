-- What are our biggest pain points right now?
SELECT rank, label, items, round(negative_share, 2) AS negative_share, round(score, 2) AS score, sources
FROM pain_points
ORDER BY rank
LIMIT 10;
