-- What changed since the previous run? Themes matched by label (theme ids are per run for now):
-- new themes, vanished themes, and the change in volume of the ones in both.
WITH ranked_runs AS (
    SELECT run_id, row_number() OVER (ORDER BY finished_at DESC) AS n FROM runs WHERE status = 'success'
),
cur AS (SELECT label, items, rank FROM theme_snapshots WHERE run_id = (SELECT run_id FROM ranked_runs WHERE n = 1)),
prev AS (SELECT label, items, rank FROM theme_snapshots WHERE run_id = (SELECT run_id FROM ranked_runs WHERE n = 2))
SELECT coalesce(cur.label, prev.label) AS label,
       CASE WHEN prev.label IS NULL THEN 'new' WHEN cur.label IS NULL THEN 'gone' ELSE 'both' END AS status,
       prev.items AS items_before, cur.items AS items_now, cur.items - prev.items AS change,
       prev.rank AS rank_before, cur.rank AS rank_now
FROM cur FULL OUTER JOIN prev ON cur.label = prev.label
ORDER BY status, abs(coalesce(cur.items, 0) - coalesce(prev.items, 0)) DESC;
