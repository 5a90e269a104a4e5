-- DuckDB, step 2: the five star tables, as sql/bench/competent_star.sql builds them on
-- PostgreSQL: CREATE TABLE AS ... SELECT DISTINCT ON (its key), no keys, no upserts, in one
-- transaction. Run by bench/duckdb_load.mjs after duckdb_stage.sql.
-- epoch_ms(ts) is the TIMESTAMP ts milliseconds after 1970-01-01 00:00:00; dayofweek is 0 on
-- Sunday and week the ISO week, as PostgreSQL's date_part('dow') and date_part('week').

BEGIN TRANSACTION;

CREATE TABLE songs AS
SELECT DISTINCT ON (song_id) song_id, title, artist_id, NULLIF(year, 0) AS year, duration
FROM staging_songs
ORDER BY song_id;

CREATE TABLE artists AS
SELECT DISTINCT ON (artist_id) artist_id, artist_name AS name, artist_location AS location,
       artist_latitude AS latitude, artist_longitude AS longitude
FROM staging_songs
ORDER BY artist_id;

CREATE TABLE users AS
SELECT DISTINCT ON (user_id) user_id, first_name, last_name, gender, level, epoch_ms(ts) AS as_of
FROM staging_events
WHERE user_id <> ''
ORDER BY user_id, ts DESC;

CREATE TABLE songplays AS
SELECT DISTINCT ON (songplay_id) *
FROM (
  SELECT e.session_id * 16777216 + e.item_in_session AS songplay_id, epoch_ms(e.ts) AS start_time,
         NULLIF(e.user_id, '') AS user_id, e.level, s.song_id, s.artist_id, e.session_id, e.location, e.user_agent
  FROM staging_events e
  LEFT JOIN staging_songs s ON s.title = e.song AND s.artist_name = e.artist AND s.duration = e.length
  WHERE e.page = 'NextSong'
) p
ORDER BY songplay_id;

CREATE TABLE time AS
SELECT start_time, hour(start_time) AS hour, day(start_time) AS day, week(start_time) AS week,
       month(start_time) AS month, year(start_time) AS year, dayofweek(start_time) AS weekday
FROM (SELECT DISTINCT start_time FROM songplays) t;

COMMIT;
