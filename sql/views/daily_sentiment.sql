-- view: daily_sentiment
-- description: Per day, topic (the airline in airline data) and source: tweets scored by the champion, counts and shares per predicted label.
-- depends: scored_tweets
--
-- Shares are rounded to 4 decimals; they sum to 1 (up to rounding) for the standard classes.
CREATE VIEW daily_sentiment AS
SELECT
    day,
    topic,
    source,
    label_set,
    model_version_id,
    COUNT(*) AS tweets,
    SUM(CASE WHEN predicted = 'negative' THEN 1 ELSE 0 END) AS negative,
    SUM(CASE WHEN predicted = 'neutral' THEN 1 ELSE 0 END) AS neutral,
    SUM(CASE WHEN predicted = 'positive' THEN 1 ELSE 0 END) AS positive,
    ROUND(1.0 * SUM(CASE WHEN predicted = 'negative' THEN 1 ELSE 0 END) / COUNT(*), 4) AS negative_share,
    ROUND(1.0 * SUM(CASE WHEN predicted = 'neutral' THEN 1 ELSE 0 END) / COUNT(*), 4) AS neutral_share,
    ROUND(1.0 * SUM(CASE WHEN predicted = 'positive' THEN 1 ELSE 0 END) / COUNT(*), 4) AS positive_share,
    ROUND(CAST(AVG(confidence) AS NUMERIC), 4) AS mean_confidence
FROM scored_tweets
GROUP BY day, topic, source, label_set, model_version_id
