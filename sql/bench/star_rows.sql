-- Row counts of the five star tables and how many plays found their song, for comparing a load
-- whose tables are not loadstar's (no digest can match) with loadstar's. Runs on PostgreSQL with
-- search_path set to the case's schema, and on DuckDB (bench/duckdb_load.mjs --counts). Not timed.
SELECT 'songplays' AS figure, count(*) AS n FROM songplays
UNION ALL SELECT 'users', count(*) FROM users
UNION ALL SELECT 'songs', count(*) FROM songs
UNION ALL SELECT 'artists', count(*) FROM artists
UNION ALL SELECT 'time', count(*) FROM time
UNION ALL SELECT 'matched plays', count(*) FROM songplays WHERE song_id IS NOT NULL;
