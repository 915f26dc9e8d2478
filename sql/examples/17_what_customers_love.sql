-- What do customers love (keep it, say it in release notes and marketing)?
SELECT rank, label, items, round(positive_share, 2) AS positive_share, example_quotes[1] AS example
FROM praise
ORDER BY rank
LIMIT 10;
