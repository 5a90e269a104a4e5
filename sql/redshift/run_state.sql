-- The state of one run. $1 = run_id.
SELECT state FROM runs WHERE run_id = $1;
