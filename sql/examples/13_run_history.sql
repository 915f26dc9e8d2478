-- Run history: when discovery ran, how it went, how long each stage took.
SELECT run_id, status, started_at, finished_at,
       stats->>'themes' AS themes, stats->>'segments' AS segments,
       stats->'seconds' AS seconds_per_stage, error
FROM runs
ORDER BY started_at DESC
LIMIT 10;
