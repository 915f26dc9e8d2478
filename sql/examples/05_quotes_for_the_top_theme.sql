-- Show me what customers actually say about the #1 pain point.
SELECT example_rank, quote, source, created_at, sentiment
FROM theme_examples
WHERE theme_id = (SELECT theme_id FROM pain_points WHERE rank = 1)
ORDER BY example_rank
LIMIT 10;
