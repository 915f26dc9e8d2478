-- Top negative themes this week. "This week" = the 7 days up to the newest feedback (for live data
-- that is today; replace with current_date to be strict).
WITH recent AS (
    SELECT * FROM feedback_themes
    WHERE created_at > (SELECT max(created_at) FROM feedback) - INTERVAL 7 DAY
)
SELECT theme_id, theme_label, count(*) AS items,
       count(*) FILTER (WHERE sentiment = 'negative') AS negative_items
FROM recent
WHERE theme_id IS NOT NULL
GROUP BY ALL
ORDER BY negative_items DESC, items DESC
LIMIT 10;
