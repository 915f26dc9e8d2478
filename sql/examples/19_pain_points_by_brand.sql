-- Which brands (the @handles customers address) each of the top pain points concerns? Social posts
-- are clustered without their handles, so "lost baggage" is one theme across airlines; split it here.
SELECT p.rank, p.label, m.mention AS brand, m.items, round(m.share_of_theme, 2) AS share_of_theme
FROM pain_points p
JOIN theme_mentions m ON m.theme_id = p.theme_id
WHERE p.rank <= 10
ORDER BY p.rank, m.items DESC;
