-- The end of the transform transaction, after the transforms and the data-quality checks have
-- passed. {{run_id}} is substituted as an integer.
-- The run is done: its files are loaded, its staging rows are no longer needed.
UPDATE load_files SET state = 'loaded', updated_at = now() WHERE run_id = {{run_id}} AND state = 'staged';
DELETE FROM staging_events WHERE run_id = {{run_id}};
DELETE FROM staging_songs WHERE run_id = {{run_id}};
UPDATE runs SET state = 'done', error = NULL, finished_at = now() WHERE run_id = {{run_id}};
