-- view: live_sentiment
-- description: The last hour, per minute (UTC) and topic (for streamed posts, the keyword they matched): posts scored by the champion, counts and shares per predicted label; posts their authors deleted are left out.
-- depends: scored_tweets
--
-- minute is 'YYYY-MM-DD HH:MM' (UTC) as text on both databases, cut from the post's created_at;
-- "the last hour" is the hour before the moment of the query. Streamed posts appear here as soon
-- as their micro-batch commits (within seconds), because they are stored and scored in one
-- transaction.
CREATE VIEW live_sentiment AS
SELECT
    SUBSTR(CAST(created_at AS VARCHAR(32)), 1, 16) AS minute,
    topic,
    source,
    label_set,
    model_version_id,
    COUNT(*) AS posts,
    SUM(CASE WHEN predicted = 'negative' THEN 1 ELSE 0 END) AS negative,
    SUM(CASE WHEN predicted = 'neutral' THEN 1 ELSE 0 END) AS neutral,
    SUM(CASE WHEN predicted = 'positive' THEN 1 ELSE 0 END) AS positive,
    ROUND(1.0 * SUM(CASE WHEN predicted = 'negative' THEN 1 ELSE 0 END) / COUNT(*), 4) AS negative_share,
    ROUND(1.0 * SUM(CASE WHEN predicted = 'neutral' THEN 1 ELSE 0 END) / COUNT(*), 4) AS neutral_share,
    ROUND(1.0 * SUM(CASE WHEN predicted = 'positive' THEN 1 ELSE 0 END) / COUNT(*), 4) AS positive_share,
    ROUND(CAST(AVG(confidence) AS NUMERIC), 4) AS mean_confidence
FROM scored_tweets
WHERE created_at >= {{utc_hour_ago}} AND deleted_at IS NULL
GROUP BY SUBSTR(CAST(created_at AS VARCHAR(32)), 1, 16), topic, source, label_set, model_version_id
