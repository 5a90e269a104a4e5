-- Whether a run's staged rows are all still there: the ledger's count of them against the
-- staging tables' (unlogged, so a server crash empties them). $1 = run_id.
SELECT (SELECT COALESCE(sum(staged), 0) FROM load_files WHERE run_id = $1 AND state = 'staged') AS ledger_rows,
       (SELECT count(*) FROM staging_events WHERE run_id = $1)
         + (SELECT count(*) FROM staging_songs WHERE run_id = $1) AS staged_rows
