-- Themes that come mostly from one source (e.g. enterprise tickets rather than app reviews):
-- replace 'cfpb' with your source name.
SELECT theme_id, label, items, round(share_of_theme, 2) AS share_from_source
FROM theme_sources
WHERE source = 'cfpb' AND share_of_theme > 0.5
ORDER BY items DESC;
