-- Row counts of the star tables, for the end-of-run summary.
SELECT 'songplays' AS table_name, count(*) AS row_count FROM songplays
UNION ALL SELECT 'users', count(*) FROM users
UNION ALL SELECT 'songs', count(*) FROM songs
UNION ALL SELECT 'artists', count(*) FROM artists
UNION ALL SELECT 'time', count(*) FROM time;
