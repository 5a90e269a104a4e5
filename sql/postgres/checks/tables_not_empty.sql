-- check: every star table this run fed (songs, artists from song records; songplays and time from NextSong events; users from events with a userId) holds at least one row
-- {{run_id}} is the run being checked; this runs inside the transform transaction, before the
-- run's staging rows are cleared. One offending row per empty table. A table counts as fed when
-- the run staged a row it is built from, so that no input can fail this check: a run whose
-- records were all rejected, or whose logs hold page views but no plays, loads nothing into those
-- tables and is right to. Star tables never lose rows, so one fed by an earlier run is not empty
-- either. In a schema where nothing was ever staged (the star was built by other means) every
-- table must have rows.
WITH fed AS (
  SELECT EXISTS (SELECT 1 FROM staging_songs WHERE run_id = {{run_id}}) AS songs,
         EXISTS (SELECT 1 FROM staging_plays WHERE run_id = {{run_id}}) AS plays,
         EXISTS (SELECT 1 FROM staging_users WHERE run_id = {{run_id}}) AS users,
         EXISTS (SELECT 1 FROM load_files WHERE state IN ('staged', 'loaded')) AS any_file
)
SELECT t.table_name
FROM fed,
     LATERAL (VALUES ('songplays', fed.plays, EXISTS (SELECT 1 FROM songplays)),
                     ('users',     fed.users, EXISTS (SELECT 1 FROM users)),
                     ('time',      fed.plays, EXISTS (SELECT 1 FROM time)),
                     ('songs',     fed.songs, EXISTS (SELECT 1 FROM songs)),
                     ('artists',   fed.songs, EXISTS (SELECT 1 FROM artists))) AS t (table_name, is_fed, has_rows)
WHERE (t.is_fed OR NOT fed.any_file) AND NOT t.has_rows
ORDER BY t.table_name;
