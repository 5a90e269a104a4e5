-- Removes what an earlier attempt staged for one file (the file changed since). $1 = run_id, $2 = file_id.
WITH p AS (DELETE FROM staging_plays WHERE run_id = $1 AND file_id = $2),
     u AS (DELETE FROM staging_users WHERE run_id = $1 AND file_id = $2),
     t AS (DELETE FROM staging_time WHERE run_id = $1 AND file_id = $2),
     s AS (DELETE FROM staging_songs WHERE run_id = $1 AND file_id = $2)
DELETE FROM rejects WHERE run_id = $1 AND file_id = $2;
