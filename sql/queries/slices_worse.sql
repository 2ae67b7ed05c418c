-- name: slices_worse
-- description: Which slices of the frozen test set got worse from version a to version b (macro-F1 per slice, b minus a; intervals say whether it is noise).
-- param: a (integer) the earlier model version id (see model_leaderboard)
-- param: b (integer) the later model version id, e.g. 7
SELECT sb.grp, sb.slice, sb.n,
       sa.macro_f1 AS f1_a, sb.macro_f1 AS f1_b, sb.macro_f1 - sa.macro_f1 AS change,
       sa.low AS low_a, sa.high AS high_a, sb.low AS low_b, sb.high AS high_b,
       CASE WHEN sb.high < sa.low THEN 'worse beyond noise' WHEN sb.macro_f1 < sa.macro_f1 THEN 'worse within noise' ELSE 'not worse' END AS verdict
FROM evaluation_slices sb
JOIN evaluation_slices sa ON sa.model_version_id = :a AND sa.grp = sb.grp AND sa.slice = sb.slice
     AND (sa.test_set_id = sb.test_set_id OR (sa.test_set_id IS NULL AND sb.test_set_id IS NULL))
WHERE sb.model_version_id = :b AND sb.macro_f1 < sa.macro_f1
ORDER BY sb.macro_f1 - sa.macro_f1
