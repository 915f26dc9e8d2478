-- Named queries of painpoints/api.py (the Python API): whole views, as DataFrames.

-- name: api_ranked
-- every column of a ranked view ({view}: pain_points, pain_facets, feature_requests or praise), optionally in one
-- area (id or label), first $limit rows (NULL: all)
SELECT * FROM {view}
WHERE $area IS NULL OR area_id = $area OR lower(area_label) = lower($area)
ORDER BY rank
LIMIT $limit;

-- name: api_feedback_themes
SELECT * FROM feedback_themes
WHERE $theme IS NULL OR theme_id = $theme
ORDER BY feedback_id, segment;
