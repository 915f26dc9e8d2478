-- Named queries of painpoints/api.py (the Python API): whole views, as DataFrames.

-- name: api_feedback_themes
SELECT * FROM feedback_themes
WHERE $theme IS NULL OR theme_id = $theme
ORDER BY feedback_id, segment;
