-- How does each source's feedback split into problems, requests, questions and praise?
SELECT source, feedback_type, count(*) AS segments,
       round(count(*) / sum(count(*)) OVER (PARTITION BY source), 3) AS share_of_source
FROM feedback_themes
GROUP BY source, feedback_type
ORDER BY source, segments DESC;
