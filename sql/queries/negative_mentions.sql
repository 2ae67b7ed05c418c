-- name: negative_mentions
-- description: Tweets the champion scores negative that mention a keyword, in a date range, most confident first.
-- param: keyword (text) word or phrase to look for; case-insensitive for ASCII letters; % and _ match themselves
-- param: since (date, default 2006-01-01) first day, YYYY-MM-DD (UTC), inclusive
-- param: until (date, default 9999-12-31) last day, YYYY-MM-DD (UTC), inclusive
-- param: limit (integer, default 100) at most this many tweets
SELECT tweet_id, day, topic, source, confidence, p_negative, gold_label, text
FROM scored_tweets
WHERE predicted = 'negative'
  AND LOWER(text) LIKE '%' || REPLACE(REPLACE(REPLACE(LOWER(:keyword), '!', '!!'), '%', '!%'), '_', '!_') || '%' ESCAPE '!'
  AND created_at >= :since
  AND day <= :until
ORDER BY confidence DESC, tweet_id
LIMIT :limit
