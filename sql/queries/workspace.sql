-- Named queries of painpoints/workspace.py: what the workspace surfaces (MCP, `ask`, the web app)
-- read. Only public views, so they show exactly what a PM's SQL would.

-- name: ranked_view
-- every column of a ranked view ({view}: pain_points, pain_facets, feature_requests or praise), optionally
-- in one area (id or label, case-insensitive), the first $limit rows (NULL: all). The workspace surfaces
-- and the Python API both read ranked views through it.
SELECT * FROM {view}
WHERE $area IS NULL OR area_id = $area OR lower(area_label) = lower($area)
ORDER BY rank
LIMIT $limit;

-- name: workspace_theme
SELECT theme_id, label, description, theme_type, status, items, feedback_items, share, negative_share,
       avg_sentiment, trend, trend_recent, trend_expected, score, impact, avg_rating, rated_items, sources,
       keywords, area_id, area_label, overall_rank, label_method, pinned, run_id
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
-- the theme's segments by feedback type, by sentiment and by the @handles its items address (the
-- brands a social feed's theme concerns, the 20 most frequent; none for reviews and tickets)
SELECT 'feedback_type' AS facet, coalesce(feedback_type, 'unknown') AS value, count(*) AS segments
FROM feedback_themes WHERE theme_id = $theme GROUP BY ALL
UNION ALL
SELECT 'sentiment', sentiment, count(*) FROM feedback_themes WHERE theme_id = $theme GROUP BY ALL
UNION ALL
(SELECT 'mention', mention, items FROM theme_mentions WHERE theme_id = $theme ORDER BY items DESC, mention LIMIT 20)
ORDER BY facet, segments DESC, value;

-- name: workspace_segments
-- one page of a theme's segments, most negative first, with the item they come from
SELECT feedback_id, segment, external_id, source, created_at, sentiment, feedback_type, text
FROM feedback_themes
WHERE theme_id = $theme
ORDER BY sentiment_score, feedback_id, segment
LIMIT $limit OFFSET $offset;

-- name: workspace_weeks
-- the theme's segments per week, the last $weeks weeks of the data
SELECT period_start, items, negative_items
FROM theme_trends
WHERE theme_id = $theme AND period = 'week'
  AND period_start > (SELECT max(period_start) FROM theme_trends WHERE period = 'week') - INTERVAL ($weeks * 7) DAY
ORDER BY period_start;

-- name: workspace_areas
SELECT area_id, area_label, themes, items, negative_share, pain_points, praise_themes, top_themes
FROM theme_areas
ORDER BY rank;

-- name: workspace_themes
-- every theme of the latest run (hidden ones too), for curation targets
SELECT t.theme_id, t.label, t.items, t.hidden
FROM theme_snapshots t JOIN latest_run r ON t.run_id = r.run_id
ORDER BY t.hidden, t.rank, t.theme_id;

-- name: workspace_run
SELECT run_id, status, started_at, finished_at, error FROM runs ORDER BY started_at DESC LIMIT 1;

-- name: workspace_pending
-- merge / split actions recorded after the latest successful run began: the next run applies them
SELECT count(*) FROM curation
WHERE action IN ('merge', 'split') AND created_at > coalesce((SELECT started_at FROM latest_run), TIMESTAMP '1970-01-01');
