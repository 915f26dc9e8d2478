-- What do customers ask us to build? Requests per theme, most asked first, with what they said.
SELECT rank, label, items AS requests, round(share, 3) AS share, example_quotes[1:2] AS examples, sources
FROM feature_requests
ORDER BY rank
LIMIT 10;
