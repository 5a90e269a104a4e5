-- Row count and a digest of every star table's content, so that the harness can check that each
-- case built the same tables as every other (the baseline's SQL-only typing and loadstar's parser
-- must agree). Runs with search_path set to the case's schema. Not timed.
SELECT 'songplays' AS table_name, count(*) AS row_count,
       md5(coalesce(string_agg(md5(t::text), '' ORDER BY t.songplay_id), '')) AS digest
FROM songplays t
UNION ALL
SELECT 'users', count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY t.user_id), '')) FROM users t
UNION ALL
SELECT 'songs', count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY t.song_id), '')) FROM songs t
UNION ALL
SELECT 'artists', count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY t.artist_id), '')) FROM artists t
UNION ALL
SELECT 'time', count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY t.start_time), '')) FROM time t;
