-- view: model_leaderboard
-- description: Model versions with their frozen-test-set metrics, rank within their label set, status and promotion decision.
--
-- f1_rank is 1 for the best test macro-F1 of a label set (ties share a rank); NULL for versions
-- without test metrics (training failed or still running).
CREATE VIEW model_leaderboard AS
SELECT
    m.id AS model_version_id,
    m.label_set,
    m.status,
    m.test_macro_f1,
    m.test_accuracy,
    CASE WHEN m.test_macro_f1 IS NULL THEN NULL ELSE 1 + (
        SELECT COUNT(*) FROM model_versions b WHERE b.label_set = m.label_set AND b.test_macro_f1 > m.test_macro_f1
    ) END AS f1_rank,
    m.promotion ->> 'reason' AS decision,
    m.promotion ->> 'decided_at' AS decided_at,
    m.created_at,
    m.train_seconds,
    m.base_checkpoint,
    m.artifact_path
FROM model_versions m
