-- Row counts of the star tables, for the end-of-run summary: the fact table first.
SELECT table_name, row_count FROM (
  SELECT 1 AS position, 'songplays' AS table_name, count(*) AS row_count FROM songplays
  UNION ALL SELECT 2, 'users', count(*) FROM users
  UNION ALL SELECT 3, 'songs', count(*) FROM songs
  UNION ALL SELECT 4, 'artists', count(*) FROM artists
  UNION ALL SELECT 5, 'time', count(*) FROM time
) counts
ORDER BY position;
