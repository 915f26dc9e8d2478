-- Which themes are growing? (trend = relative change of the theme's share in the last 30 days vs before;
-- NULL when the feedback has no timestamps.)
SELECT label, items, round(trend, 2) AS trend, round(negative_share, 2) AS negative_share
FROM pain_points
WHERE trend IS NOT NULL
ORDER BY trend DESC
LIMIT 10;
