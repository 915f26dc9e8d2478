-- Data quality: what was refused at ingest, and why?
SELECT source, reason, count(*) AS rows, any_value(left(raw, 120)) AS example
FROM rejected_rows
GROUP BY source, reason
ORDER BY rows DESC;
