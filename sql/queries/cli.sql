-- name: top_pain_points
-- what `painpoints run` and `painpoints demo` print: the top (?) rows of the ranked table
SELECT rank, label, items, round(negative_share, 2) AS negative_share, round(avg_sentiment, 2) AS avg_sentiment,
       round(score, 2) AS score
FROM pain_points
LIMIT ?;
