-- Drill-down views over the latest successful run (see docs/sql.md).

-- Items and negative share per theme per day and per week (only feedback with a timestamp).
CREATE OR REPLACE VIEW theme_trends AS
SELECT theme_id, theme_label AS label, period, period_start, count(*) AS items,
       count(*) FILTER (WHERE sentiment = 'negative') AS negative_items,
       avg((sentiment = 'negative')::INTEGER) AS negative_share
FROM (
    SELECT *, 'day' AS period, date_trunc('day', created_at)::DATE AS period_start FROM feedback_themes
    UNION ALL
    SELECT *, 'week' AS period, date_trunc('week', created_at)::DATE AS period_start FROM feedback_themes
) t
WHERE created_at IS NOT NULL AND theme_id IS NOT NULL
GROUP BY theme_id, theme_label, period, period_start;

-- Every segment of a theme as a quote with its source and date; example_rank 1.. puts the run's
-- representative quotes first, then the most negative.
CREATE OR REPLACE VIEW theme_examples AS
SELECT ft.theme_id, ft.theme_label AS label,
       row_number() OVER (PARTITION BY ft.theme_id
                          ORDER BY list_contains(p.example_quotes, left(ft.text, 240)) DESC,
                                   ft.sentiment_score, ft.feedback_id, ft.segment) AS example_rank,
       list_contains(p.example_quotes, left(ft.text, 240)) AS representative,
       ft.text AS quote, ft.source, ft.kind, ft.created_at, ft.sentiment, ft.sentiment_score,
       ft.feedback_id, ft.external_id
FROM feedback_themes ft
JOIN latest_themes p USING (theme_id)
WHERE ft.theme_id IS NOT NULL;

-- Where each theme comes from: items per (source, kind), as a share of the theme and of the source.
CREATE OR REPLACE VIEW theme_sources AS
SELECT theme_id, theme_label AS label, source, kind, count(*) AS items,
       count(*) / sum(count(*)) OVER (PARTITION BY theme_id) AS share_of_theme,
       count(*) / any_value(src.source_items) AS share_of_source
FROM feedback_themes
JOIN (SELECT source, count(*) AS source_items FROM feedback_themes GROUP BY source) src USING (source)
WHERE theme_id IS NOT NULL
GROUP BY theme_id, theme_label, source, kind;

-- The @handles the items of each theme address ("@united"), lower-cased: which brand a theme concerns.
-- Only items that open as a social post does ("@united …", ".@Delta …", "RT @bob: …") count, as in the
-- segmenter, which leaves their handles out so that a theme is the problem (discovery/normalize.py).
CREATE OR REPLACE VIEW theme_mentions AS
WITH mentioned AS (
    SELECT ft.theme_id, ft.theme_label,
           unnest(list_distinct(list_transform(
               regexp_extract_all(f.text, '(?:^|[^\p{L}\p{N}_@./])\.?(@[\p{L}_][\p{L}\p{N}_]*)', 1),
               h -> lower(h)))) AS mention
    FROM feedback_themes ft
    JOIN feedback f USING (feedback_id)
    WHERE ft.theme_id IS NOT NULL AND f.text LIKE '%@%'
      AND regexp_matches(f.text, '^\s*(RT\s*:?\s*)?\.?@[\p{L}_]')
)
SELECT m.theme_id, m.theme_label AS label, m.mention, count(*) AS items,
       count(*) / any_value(tot.theme_items) AS share_of_theme
FROM mentioned m
JOIN (SELECT theme_id, count(*) AS theme_items FROM feedback_themes GROUP BY theme_id) tot USING (theme_id)
GROUP BY m.theme_id, m.theme_label, m.mention;

-- Themes by any scalar metadata field kept from the input (app version, plan, country, product…), and
-- by `mention` (the view above).
CREATE OR REPLACE VIEW theme_segments AS
SELECT ft.theme_id, ft.theme_label AS label, m.key AS field, trim(m.value::VARCHAR, '"') AS value,
       count(*) AS items,
       count(*) / any_value(tot.theme_items) AS share_of_theme
FROM feedback_themes ft
JOIN feedback f USING (feedback_id)
JOIN (SELECT theme_id, count(*) AS theme_items FROM feedback_themes GROUP BY theme_id) tot USING (theme_id),
     json_each(f.metadata) m
WHERE ft.theme_id IS NOT NULL AND m.type NOT IN ('ARRAY', 'OBJECT', 'NULL')
GROUP BY ft.theme_id, ft.theme_label, m.key, trim(m.value::VARCHAR, '"')
UNION ALL
SELECT theme_id, label, 'mention' AS field, mention AS value, items, share_of_theme
FROM theme_mentions;
