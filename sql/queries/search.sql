-- Named queries of discovery/search.py: search by meaning over every stored segment.

-- name: search_segments
-- Exact scan: the inner product of the query's vector with the cached vector of every segment (both
-- L2-normalised, so it is their cosine), within the source / theme filters; the $candidates nearest are
-- then reordered with a keyword bonus, $kw_weight × the share of the query's words found in the text
-- (regular expressions cost ~8 µs a row: paid on the candidates only). Segments of the latest run carry
-- their theme. $vector: the query's vector; $model: the embedding cache key; $terms: the query's words
-- (lower case, letters and digits only); $theme / $source: NULL or a filter.
WITH nearest AS (
    SELECT s.segment_id, s.feedback_id, s.segment, s.text,
           list_inner_product(e.vector, $vector::FLOAT[]) AS cosine
    FROM segments s
    JOIN embeddings e ON e.content_hash = s.content_hash AND e.model = $model
    WHERE ($source IS NULL OR s.feedback_id IN (SELECT feedback_id FROM feedback WHERE source = $source))
      AND ($theme IS NULL OR s.segment_id IN (
              SELECT segment_id FROM current_assignments WHERE theme_id = $theme))
    ORDER BY cosine DESC, s.segment_id
    LIMIT $candidates
)
SELECT n.feedback_id, f.external_id, f.source, f.created_at, n.text, t.theme_id, t.theme_label,
       n.cosine + CASE WHEN len($terms) = 0 THEN 0.0
                       ELSE $kw_weight * list_sum([regexp_matches(lower(n.text), '\b' || w || '\b')::INTEGER
                                                   FOR w IN $terms]) / len($terms) END AS score
FROM nearest n
JOIN feedback f ON f.feedback_id = n.feedback_id
LEFT JOIN feedback_themes t ON t.feedback_id = n.feedback_id AND t.segment = n.segment
ORDER BY score DESC, n.segment_id
LIMIT $limit;

-- name: search_vector_count
SELECT count(*) FROM segments s JOIN embeddings e ON e.content_hash = s.content_hash AND e.model = ?;
