-- Named queries of discovery/retention.py.

-- name: prunable_runs
-- successful runs whose assignments may go: all but the newest $keep_runs successful ones (the latest
-- always stays: views and the next run read it), and only those older than $keep_days days when set
WITH ranked AS (
    SELECT run_id, finished_at, row_number() OVER (ORDER BY finished_at DESC, run_id DESC) AS n
    FROM runs WHERE status = 'success'
)
SELECT run_id FROM ranked
WHERE n > greatest($keep_runs, 1)
  AND ($keep_days IS NULL OR finished_at < $now - to_days(CAST($keep_days AS INTEGER)))
  AND run_id IN (SELECT DISTINCT run_id FROM assignments)
ORDER BY run_id;

-- name: prune_assignments
DELETE FROM assignments WHERE run_id IN (SELECT unnest($runs::VARCHAR[]));

-- name: mark_pruned
UPDATE runs SET pruned_at = $now WHERE run_id IN (SELECT unnest($runs::VARCHAR[]));
