-- name: model_compare
-- description: How two model versions label the same tweets: tweets per (label of version a, label of version b), with gold accuracy of each.
-- param: a (integer) first model version id (see model_leaderboard)
-- param: b (integer) second model version id
SELECT sa.label AS label_a, sb.label AS label_b, COUNT(*) AS tweets,
       SUM(CASE WHEN g.label IS NULL THEN 0 ELSE 1 END) AS with_gold,
       SUM(CASE WHEN g.label = sa.label THEN 1 ELSE 0 END) AS a_correct,
       SUM(CASE WHEN g.label = sb.label THEN 1 ELSE 0 END) AS b_correct
FROM scores sa
JOIN scores sb ON sb.tweet_id = sa.tweet_id AND sb.model_version_id = :b
LEFT JOIN labels g ON g.tweet_id = sa.tweet_id AND g.origin = 'gold'
WHERE sa.model_version_id = :a
GROUP BY sa.label, sb.label
ORDER BY sa.label, sb.label
