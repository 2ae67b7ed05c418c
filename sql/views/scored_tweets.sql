-- view: scored_tweets
-- description: Each tweet with its current score (the champion's, else the most recent one, with its model version): label, confidence, one probability per class, scored_at, its gold label when there is one, and when its author deleted it (streamed posts).
--
-- One row per scored tweet and label set. A tweet shows the champion's score once the champion
-- has scored it; until then (a champion promoted a moment ago, its re-scoring still running) it
-- shows its most recent score and that score's model_version_id, never nothing. day is
-- 'YYYY-MM-DD' (UTC) as text on both databases; correct is 1 or 0 where there is a gold label,
-- NULL otherwise.
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
    CASE WHEN g.label IS NULL THEN NULL WHEN g.label = s.label THEN 1 ELSE 0 END AS correct,
    t.deleted_at
FROM scores s
JOIN model_versions m ON m.id = s.model_version_id
JOIN tweets t ON t.id = s.tweet_id
LEFT JOIN labels g ON g.tweet_id = t.id AND g.origin = 'gold'
WHERE s.id = (
    SELECT s2.id
    FROM scores s2
    JOIN model_versions m2 ON m2.id = s2.model_version_id
    WHERE s2.tweet_id = s.tweet_id AND m2.label_set = m.label_set
    ORDER BY CASE WHEN m2.status = 'champion' THEN 0 ELSE 1 END, s2.scored_at DESC, s2.id DESC
    LIMIT 1
)
