-- Named queries of painpoints/ask.py: checking the feedback ids an answer cites.

-- name: ask_cited
-- the stored items among the ids (a list), with their segments' text: cleaned and PII-redacted, the same text the
-- tools showed the model (an item not segmented yet has an empty list)
SELECT f.feedback_id, f.external_id,
       coalesce(list(s.text ORDER BY s.segment) FILTER (WHERE s.text IS NOT NULL), []) AS texts
FROM feedback f
LEFT JOIN segments s USING (feedback_id)
WHERE f.feedback_id IN (SELECT unnest(?::VARCHAR[]))
GROUP BY f.feedback_id, f.external_id;
