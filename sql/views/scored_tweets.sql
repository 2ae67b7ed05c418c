-- view: scored_tweets
-- description: Each tweet with its champion's score (label, confidence, one probability per class, model version, scored_at) and its gold label when there is one.
--
-- One row per tweet and champion: one champion per label set, so a database with one label set
-- has one row per scored tweet. Tweets the champion has not scored yet (a champion promoted since
-- the last nightly run) appear once it has. day is 'YYYY-MM-DD' (UTC) as text on both databases;
-- correct is 1 or 0 where there is a gold label, NULL otherwise.
CREATE VIEW scored_tweets AS
SELECT
    t.id AS tweet_id,
    t.created_at,
    SUBSTR(CAST(t.created_at AS VARCHAR(32)), 1, 10) AS day,
    t.source,
    t.topic,
    t.author,
    t.lang,
    t.text,
    s.label AS predicted,
    s.confidence,
    s.p_negative,
    s.p_neutral,
    s.p_positive,
    s.model_version_id,
    m.label_set,
    s.scored_at,
    g.label AS gold_label,
    CASE WHEN g.label IS NULL THEN NULL WHEN g.label = s.label THEN 1 ELSE 0 END AS correct
FROM scores s
JOIN model_versions m ON m.id = s.model_version_id AND m.status = 'champion'
JOIN tweets t ON t.id = s.tweet_id
LEFT JOIN labels g ON g.tweet_id = t.id AND g.origin = 'gold'
