-- How negative is each channel (reviews vs tickets vs transcripts)?
SELECT kind, count(*) AS segments, round(avg((sentiment = 'negative')::INTEGER), 3) AS negative_share,
       round(avg(sentiment_score), 3) AS avg_sentiment
FROM feedback_themes
GROUP BY kind
ORDER BY negative_share DESC;
