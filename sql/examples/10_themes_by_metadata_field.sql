-- Which themes dominate per value of a metadata field (app version, plan, country, product…)?
-- Here: the CFPB export's Product column.
SELECT value AS product, label, items, round(share_of_theme, 2) AS share_of_theme
FROM theme_segments
WHERE field = 'Product'
QUALIFY row_number() OVER (PARTITION BY value ORDER BY items DESC) <= 3
ORDER BY product, items DESC;
