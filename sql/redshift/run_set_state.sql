-- $1 = run_id, $2 = state, $3 = error (NULL unless failed). TIMESTAMP 'now': see run_create.sql.
-- The CAST gives $2 one type in both places it is used.
UPDATE runs
SET state = $2, error = $3,
    finished_at = CASE WHEN CAST($2 AS VARCHAR(16)) IN ('done', 'failed') THEN TIMESTAMP 'now' ELSE NULL END
WHERE run_id = $1;
