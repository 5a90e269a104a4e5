-- PostgreSQL alone, as a competent engineer would write it, step 3: the five star tables, each
-- made by CREATE TABLE AS ... SELECT DISTINCT ON (its key), in one transaction (the harness runs
-- this file with --single-transaction). No keys, no indexes, no upserts, no lineage: a table is
-- built once from everything staged. Where several records share a key, DISTINCT ON keeps
-- whichever comes first (users: the latest event by ts), with no rule for ties. Runs with
-- search_path set to the case's schema, after competent_stage.sql.
-- The star tables have loadstar's columns (sql/postgres/schema.sql), except songplays.unmatched_key.

-- As loadstar's transform does: the sorts and hashes of a million-row load fit in memory.
SET LOCAL work_mem = '256MB';

CREATE TABLE songs AS
SELECT DISTINCT ON (song_id) song_id, title, artist_id, NULLIF(year, 0) AS year, duration
FROM staging_songs
ORDER BY song_id;

CREATE TABLE artists AS
SELECT DISTINCT ON (artist_id) artist_id, artist_name AS name, artist_location AS location,
       artist_latitude AS latitude, artist_longitude AS longitude
FROM staging_songs
ORDER BY artist_id;

-- Each user's attributes as of their latest event.
CREATE TABLE users AS
SELECT DISTINCT ON (user_id) user_id, first_name, last_name, gender, level,
       timestamp 'epoch' + ts * interval '1 millisecond' AS as_of
FROM staging_events
WHERE user_id <> ''
ORDER BY user_id, ts DESC;

-- One play per NextSong event, matched as loadstar matches: a song record whose title, artist_name
-- and duration equal the play's song, artist and length.
CREATE TABLE songplays AS
SELECT DISTINCT ON (songplay_id) *
FROM (
  SELECT e.session_id * 16777216 + e.item_in_session AS songplay_id,
         timestamp 'epoch' + e.ts * interval '1 millisecond' AS start_time,
         NULLIF(e.user_id, '') AS user_id, e.level, s.song_id, s.artist_id, e.session_id, e.location, e.user_agent
  FROM staging_events e
  LEFT JOIN staging_songs s ON s.title = e.song AND s.artist_name = e.artist AND s.duration = e.length
  WHERE e.page = 'NextSong'
) p
ORDER BY songplay_id;

CREATE TABLE time AS
SELECT start_time,
       date_part('hour', start_time)::int AS hour, date_part('day', start_time)::int AS day,
       date_part('week', start_time)::int AS week, date_part('month', start_time)::int AS month,
       date_part('year', start_time)::int AS year, date_part('dow', start_time)::int AS weekday
FROM (SELECT DISTINCT start_time FROM songplays) t;
