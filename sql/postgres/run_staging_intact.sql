-- Whether a run's staged rows are all still there: the ledger's count of them against the
-- staging tables' (unlogged, so a server crash empties them). A file an older loadstar staged
-- has no count (NULL): its rows are taken as lost. $1 = run_id.
SELECT (SELECT CASE WHEN bool_and(staged_rows IS NOT NULL) IS FALSE THEN -1 ELSE COALESCE(sum(staged_rows), 0) END
        FROM load_files WHERE run_id = $1 AND state = 'staged') AS ledger_rows,
       (SELECT count(*) FROM staging_plays WHERE run_id = $1)
         + (SELECT count(*) FROM staging_users WHERE run_id = $1)
         + (SELECT count(*) FROM staging_time WHERE run_id = $1)
         + (SELECT count(*) FROM staging_songs WHERE run_id = $1) AS staged_rows
