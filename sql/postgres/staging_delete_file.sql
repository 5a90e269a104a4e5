-- Removes what an earlier attempt staged for one file (the file changed since). $1 = run_id, $2 = file_id.
WITH e AS (DELETE FROM staging_events WHERE run_id = $1 AND file_id = $2),
     s AS (DELETE FROM staging_songs WHERE run_id = $1 AND file_id = $2)
DELETE FROM rejects WHERE run_id = $1 AND file_id = $2;
