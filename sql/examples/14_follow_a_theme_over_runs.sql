-- How has the top theme moved over the last runs? Theme ids are stable, so its history is one filter.
SELECT h.finished_at, h.label, h.items, round(h.share, 3) AS share, round(h.negative_share, 2) AS negative_share,
       h.rank, h.status
FROM theme_history h
WHERE h.theme_id = (SELECT theme_id FROM pain_points ORDER BY rank LIMIT 1)
ORDER BY h.finished_at DESC
LIMIT 20;
