-- $1 = run_id, $2 = state, $3 = error (NULL unless failed).
UPDATE runs
SET state = $2, error = $3,
    finished_at = CASE WHEN $2 IN ('done', 'failed') THEN now() ELSE NULL END
WHERE run_id = $1;
