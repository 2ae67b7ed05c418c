-- name: confident_mistakes
-- description: The champion's most confident predictions that disagree with the gold label.
-- param: min_confidence (number, default 0) only mistakes at least this confident (0 to 1)
-- param: limit (integer, default 50) at most this many tweets
SELECT tweet_id, day, topic, predicted, gold_label, confidence, p_negative, p_neutral, p_positive, text
FROM scored_tweets
WHERE correct = 0
  AND confidence >= :min_confidence
ORDER BY confidence DESC, tweet_id
LIMIT :limit
