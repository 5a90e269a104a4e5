-- The end of the transform transaction, after the transforms and the data-quality checks have
-- passed. {{run_id}} is substituted as an integer.
-- The run is done: its files are loaded, its staging rows are no longer needed.
UPDATE load_files SET state = 'loaded', updated_at = now() WHERE run_id = {{run_id}} AND state = 'staged';
-- Where they are all the run's (the usual case), the staging tables are truncated, which costs
-- nothing, rather than deleted from row by row. Another run's rows matter only while the ledger
-- holds files that run staged and nobody loaded (an abandoned run, which may be resumed); rows of
-- a run with no such file are left over and nothing reads them.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM load_files WHERE state = 'staged' AND run_id <> {{run_id}}) THEN
    DELETE FROM staging_plays WHERE run_id = {{run_id}};
    DELETE FROM staging_users WHERE run_id = {{run_id}};
    DELETE FROM staging_time WHERE run_id = {{run_id}};
    DELETE FROM staging_songs WHERE run_id = {{run_id}};
  ELSE
    TRUNCATE staging_plays, staging_users, staging_time, staging_songs;
  END IF;
END
$$;
UPDATE runs SET state = 'done', error = NULL, finished_at = now() WHERE run_id = {{run_id}};
