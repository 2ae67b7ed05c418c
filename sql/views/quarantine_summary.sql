-- view: quarantine_summary
-- description: Quarantined input rows counted by reason, source and kind (invalid row or label conflict).
--
-- A row rejected for several reasons counts once under each of them. quarantine.reasons is a
-- JSON list; its items are read by position (reasons ->> n works on SQLite 3.38+ and PostgreSQL
-- alike, a JSON table function would not), up to 64 reasons per row.
CREATE VIEW quarantine_summary AS
WITH RECURSIVE positions (n) AS (
    SELECT 0
    UNION ALL
    SELECT n + 1 FROM positions WHERE n < 63
)
SELECT
    q.reasons ->> p.n AS reason,
    q.source,
    q.kind,
    COUNT(*) AS quarantined,
    MIN(q.quarantined_at) AS first_seen,
    MAX(q.quarantined_at) AS last_seen
FROM quarantine q
JOIN positions p ON q.reasons ->> p.n IS NOT NULL
GROUP BY q.reasons ->> p.n, q.source, q.kind
