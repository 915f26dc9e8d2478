-- Named queries of discovery/retention.py.

-- name: prunable_runs
-- successful runs whose log may be thinned: all but the newest $keep_runs successful ones (the latest
-- always stays), and only those older than $keep_days days when set; not pruned before
WITH ranked AS (
    SELECT run_id, finished_at, pruned_at, row_number() OVER (ORDER BY finished_at DESC, run_id DESC) AS n
    FROM runs WHERE status = 'success'
)
SELECT run_id FROM ranked
WHERE n > greatest($keep_runs, 1) AND pruned_at IS NULL
  AND ($keep_days IS NULL OR finished_at < $now - to_days(CAST($keep_days AS INTEGER)))
ORDER BY run_id;

-- name: prune_cutoff
-- the oldest successful run that stays replayable
SELECT min(finished_at) FROM runs
WHERE status = 'success' AND run_id NOT IN (SELECT unnest($runs::VARCHAR[]));

-- name: prune_assignments
-- the pruned runs' log rows that a later run up to $cutoff superseded; the rows that are still the
-- newest of their segment at $cutoff stay: every kept run is replayed from them
DELETE FROM assignments USING (
    SELECT run_id, segment_id FROM (
        SELECT a.run_id, a.segment_id,
               row_number() OVER (PARTITION BY a.segment_id ORDER BY r.finished_at DESC, a.run_id DESC) AS n
        FROM assignments a JOIN runs r ON r.run_id = a.run_id
        WHERE r.status = 'success' AND r.finished_at <= $cutoff
    ) WHERE n > 1
) AS old
WHERE assignments.run_id = old.run_id AND assignments.segment_id = old.segment_id
  AND assignments.run_id IN (SELECT unnest($runs::VARCHAR[]));

-- name: mark_pruned
UPDATE runs SET pruned_at = $now WHERE run_id IN (SELECT unnest($runs::VARCHAR[]));
