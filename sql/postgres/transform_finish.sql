-- The end of the transform transaction, after the transforms and the data-quality checks have
-- passed. {{run_id}} is substituted as an integer.
-- The run is done: its files are loaded, its staging rows are no longer needed.
UPDATE load_files SET state = 'loaded', updated_at = now() WHERE run_id = {{run_id}} AND state = 'staged';
-- Where they are all the run's (the usual case: one coordinator per schema), the staging tables
-- are truncated, which costs nothing, rather than deleted from row by row.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM staging_plays WHERE run_id <> {{run_id}})
     OR EXISTS (SELECT 1 FROM staging_users WHERE run_id <> {{run_id}})
     OR EXISTS (SELECT 1 FROM staging_time WHERE run_id <> {{run_id}})
     OR EXISTS (SELECT 1 FROM staging_songs WHERE run_id <> {{run_id}}) THEN
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
