-- What did the clustering not place in any theme? (Worth a skim: one-off problems live here.)
SELECT source, kind, text, sentiment
FROM feedback_themes
WHERE theme_id IS NULL
ORDER BY sentiment_score
LIMIT 20;
