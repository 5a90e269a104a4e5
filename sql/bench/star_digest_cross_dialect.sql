-- Row count and a digest of every star table's content, comparable between a schema loaded for
-- PostgreSQL and one loaded through the Redshift stand-in (whose tables live in the same
-- PostgreSQL). Like star_digest.sql, except that songplays.unmatched_key differs between the
-- dialects by design (a bigint hash on PostgreSQL, an md5 text on Redshift): only whether it is
-- NULL is compared. Columns are named, so that a column one dialect adds is not compared either.
-- Runs with search_path set to the case's schema. Not timed.
SELECT 'songplays' AS table_name, count(*) AS row_count,
       md5(coalesce(string_agg(md5(ROW(songplay_id, start_time, user_id, level, song_id, artist_id, session_id,
                                       location, user_agent, unmatched_key IS NULL)::text), ''
                               ORDER BY songplay_id), '')) AS digest
FROM songplays
UNION ALL
SELECT 'users', count(*),
       md5(coalesce(string_agg(md5(ROW(user_id, first_name, last_name, gender, level, as_of)::text), ''
                               ORDER BY user_id), ''))
FROM users
UNION ALL
SELECT 'songs', count(*),
       md5(coalesce(string_agg(md5(ROW(song_id, title, artist_id, year, duration)::text), '' ORDER BY song_id), ''))
FROM songs
UNION ALL
SELECT 'artists', count(*),
       md5(coalesce(string_agg(md5(ROW(artist_id, name, location, latitude, longitude)::text), ''
                               ORDER BY artist_id), ''))
FROM artists
UNION ALL
SELECT 'time', count(*),
       md5(coalesce(string_agg(md5(ROW(start_time, hour, day, week, month, year, weekday)::text), ''
                               ORDER BY start_time), ''))
FROM time;
