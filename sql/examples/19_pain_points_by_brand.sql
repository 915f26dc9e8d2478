-- Which brands (the @handles customers address) each of the top pain points concerns? Social posts
-- are clustered without their handles, so "lost baggage" is one theme across airlines; split it here.
SELECT p.rank, p.label, s.value AS brand, s.items, round(s.share_of_theme, 2) AS share_of_theme
FROM pain_points p
JOIN theme_segments s ON s.theme_id = p.theme_id AND s.field = 'mention'
WHERE p.rank <= 10
ORDER BY p.rank, s.items DESC;
