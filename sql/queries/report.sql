-- Named queries of discovery/report.py. The report reads only the public views (and runstore
-- functions for the run itself), so it shows exactly what a PM's SQL would.

-- name: report_pain_points
-- the pain points, then the complaints inside praised topics (marked in the report)
-- (the union in FROM: a DuckLake's binder refuses an ORDER BY expression over a bare UNION)
SELECT * FROM (SELECT * FROM pain_points UNION ALL BY NAME SELECT * FROM pain_facets)
ORDER BY pain_scope = 'problem segments', rank;

-- name: report_sentiment_counts
-- segments per theme and sentiment class
SELECT theme_id, sentiment, count(*)
FROM feedback_themes
WHERE theme_id IS NOT NULL
GROUP BY ALL;

-- name: report_last_week
SELECT max(period_start) FROM theme_trends WHERE period = 'week';

-- name: report_weekly_items
-- items per theme per week, for the weeks (?2) up to the last one (?1)
SELECT theme_id, period_start, items
FROM theme_trends
WHERE period = 'week' AND period_start > ?::DATE - INTERVAL (? * 7) DAY;

-- name: report_source_shares
SELECT theme_id, source, sum(share_of_theme)
FROM theme_sources
GROUP BY ALL
ORDER BY 3 DESC;

-- name: report_mentions
-- per theme, the five @handles its items address most (social feeds), each at least 1% of the theme
SELECT theme_id, mention, share_of_theme
FROM theme_mentions
WHERE share_of_theme >= 0.01
QUALIFY row_number() OVER (PARTITION BY theme_id ORDER BY items DESC, mention) <= 5
ORDER BY theme_id, items DESC, mention;

-- name: report_feature_requests
SELECT rank, theme_id, label, items, share, example_quotes[1] AS quote FROM feature_requests ORDER BY rank;

-- name: report_praise
SELECT rank, theme_id, label, items, share, positive_share, example_quotes[1] AS quote FROM praise ORDER BY rank;

-- name: report_areas
SELECT rank, area_id, area_label, themes, items, share, negative_share, pain_points, praise_themes, top_themes
FROM theme_areas
ORDER BY rank;
