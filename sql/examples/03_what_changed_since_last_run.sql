-- What changed since the previous run? Theme ids are stable across runs, so themes are compared by id:
-- new themes, themes gone (dormant or merged), and the change in volume and rank of the ones in both.
WITH ranked_runs AS (
    SELECT run_id, row_number() OVER (ORDER BY finished_at DESC) AS n FROM runs WHERE status = 'success'
),
cur AS (SELECT theme_id, label, items, rank FROM theme_snapshots WHERE run_id = (SELECT run_id FROM ranked_runs WHERE n = 1)),
prev AS (SELECT theme_id, label, items, rank FROM theme_snapshots WHERE run_id = (SELECT run_id FROM ranked_runs WHERE n = 2))
SELECT coalesce(cur.theme_id, prev.theme_id) AS theme_id, coalesce(cur.label, prev.label) AS label,
       CASE WHEN prev.theme_id IS NULL THEN 'new' WHEN cur.theme_id IS NULL THEN 'gone' ELSE 'both' END AS status,
       prev.items AS items_before, cur.items AS items_now, cur.items - prev.items AS change,
       prev.rank AS rank_before, cur.rank AS rank_now
FROM cur FULL OUTER JOIN prev USING (theme_id)
ORDER BY status, abs(coalesce(cur.items, 0) - coalesce(prev.items, 0)) DESC;
