-- How many files the ledger holds as staged by one run, to prove before the transform that
-- every planned file is there. $1 = run_id.
SELECT count(*) AS files FROM load_files WHERE run_id = $1 AND state = 'staged';
