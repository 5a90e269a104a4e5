-- check: every star table this run fed (songs, artists from song records; songplays and time from NextSong events; users from events with a userId) holds at least one row
-- {{run_id}} is the run being checked; this runs inside the transform transaction, before the
-- run's staging rows are cleared. One offending row per empty table. A table counts as fed when
-- the run staged a row it is built from, so that no input can fail this check: a run whose
-- records were all rejected, or whose logs hold page views but no plays, loads nothing into those
-- tables and is right to. Star tables never lose rows, so one fed by an earlier run is not empty
-- either. In a schema where nothing was ever loaded (the star was built by other means) every
-- table must have rows.
-- Redshift has no VALUES lists as tables and no LATERAL, so the tables and what feeds them are two
-- UNION ALLs of counts (no WITH clause: see check_sample.sql).
SELECT t.table_name
FROM (
  SELECT 'songplays' AS table_name, 'plays' AS fed_by, count(*) AS row_count FROM songplays
  UNION ALL SELECT 'users', 'users', count(*) FROM users
  UNION ALL SELECT 'time', 'plays', count(*) FROM time
  UNION ALL SELECT 'songs', 'songs', count(*) FROM songs
  UNION ALL SELECT 'artists', 'songs', count(*) FROM artists
) t
JOIN (
  SELECT 'songs' AS feed, count(*) AS staged_rows FROM staging_songs WHERE run_id = {{run_id}}
  UNION ALL SELECT 'plays', count(*) FROM staging_plays WHERE run_id = {{run_id}}
  UNION ALL SELECT 'users', count(*) FROM staging_users WHERE run_id = {{run_id}}
) f ON f.feed = t.fed_by
CROSS JOIN (SELECT count(*) AS loaded_files FROM load_files WHERE state IN ('staged', 'loaded')) l
WHERE (f.staged_rows > 0 OR l.loaded_files = 0) AND t.row_count = 0
ORDER BY t.table_name;
