-- Named queries of painpoints/workspace.py: what the workspace surfaces (MCP, `ask`, the web app)
-- read. Only public views, so they show exactly what a PM's SQL would.

-- name: workspace_ranked
-- the first $limit rows of a ranked view ({view}: pain_points, feature_requests or praise), optionally
-- in one area (id or label, case-insensitive)
SELECT rank, theme_id, label, description, items, share, negative_share, trend, score, theme_type,
       area_id, area_label, example_quotes[1] AS top_quote
FROM {view}
WHERE $area IS NULL OR area_id = $area OR lower(area_label) = lower($area)
ORDER BY rank
LIMIT $limit;

-- name: workspace_theme
SELECT theme_id, label, description, theme_type, status, items, feedback_items, share, negative_share,
       avg_sentiment, trend, trend_recent, trend_expected, score, impact, avg_rating, rated_items, sources,
       keywords, area_id, area_label, overall_rank, label_method, pinned
FROM latest_themes
WHERE theme_id = ?;

-- name: workspace_theme_quotes
-- the theme's example quotes, each with the feedback item it comes from
WITH q AS (
    SELECT unnest(example_quotes) AS quote, generate_subscripts(example_quotes, 1) AS n
    FROM latest_themes WHERE theme_id = $theme
)
SELECT q.n, f.feedback_id, f.external_id, f.source, f.created_at, f.text
FROM q
JOIN feedback_themes f ON f.theme_id = $theme AND left(f.text, 240) = q.quote
QUALIFY row_number() OVER (PARTITION BY q.n ORDER BY f.feedback_id, f.segment) = 1
ORDER BY q.n;

-- name: workspace_theme_mix
-- the theme's segments by feedback type and by sentiment
SELECT 'feedback_type' AS facet, coalesce(feedback_type, 'unknown') AS value, count(*) AS segments
FROM feedback_themes WHERE theme_id = $theme GROUP BY ALL
UNION ALL
SELECT 'sentiment', sentiment, count(*) FROM feedback_themes WHERE theme_id = $theme GROUP BY ALL
ORDER BY facet, segments DESC, value;
