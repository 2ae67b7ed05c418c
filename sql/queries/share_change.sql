-- name: share_change
-- description: Share of each predicted label per day and topic, and its change since the topic's previous day with tweets.
-- param: topic (text, default '') only this topic (the airline in airline data); empty for every topic
-- param: since (date, default 2006-01-01) first day shown, YYYY-MM-DD; the change on it still compares with the day before
WITH days AS (
    SELECT day, COALESCE(topic, '') AS topic, SUM(tweets) AS tweets,
           1.0 * SUM(negative) / SUM(tweets) AS negative_share,
           1.0 * SUM(neutral) / SUM(tweets) AS neutral_share,
           1.0 * SUM(positive) / SUM(tweets) AS positive_share
    FROM daily_sentiment
    WHERE day IS NOT NULL AND (:topic = '' OR topic = :topic)
    GROUP BY day, COALESCE(topic, '')
), changes AS (
    SELECT day, topic, tweets,
           ROUND(negative_share, 4) AS negative_share,
           ROUND(negative_share - LAG(negative_share) OVER (PARTITION BY topic ORDER BY day), 4) AS negative_change,
           ROUND(neutral_share, 4) AS neutral_share,
           ROUND(neutral_share - LAG(neutral_share) OVER (PARTITION BY topic ORDER BY day), 4) AS neutral_change,
           ROUND(positive_share, 4) AS positive_share,
           ROUND(positive_share - LAG(positive_share) OVER (PARTITION BY topic ORDER BY day), 4) AS positive_change
    FROM days
)
SELECT * FROM changes
WHERE day >= :since
ORDER BY topic, day
