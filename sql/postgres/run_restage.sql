-- A run whose staged rows were lost: its staged files go back to 'new' (staged again by this run,
-- from their bytes) and what remains of their rows and rejects is removed. {{run_id}} is the run.
UPDATE load_files SET state = 'new', records = 0, staged = 0, rejected = 0, staged_rows = 0, updated_at = now()
WHERE run_id = {{run_id}} AND state = 'staged';
DELETE FROM staging_plays WHERE run_id = {{run_id}};
DELETE FROM staging_users WHERE run_id = {{run_id}};
DELETE FROM staging_time WHERE run_id = {{run_id}};
DELETE FROM staging_songs WHERE run_id = {{run_id}};
DELETE FROM rejects WHERE run_id = {{run_id}};
