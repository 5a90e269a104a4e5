-- The PostgreSQL-only baseline, step 2: type the raw JSON into loadstar's own staging tables with
-- jsonb_to_record, so that step 3 can run the very transforms loadstar runs
-- (sql/postgres/transform.sql). Runs with search_path set to the baseline's schema.
--   {{run_id}}: the run the staging rows belong to, an integer.
-- file_id is 0 and line is the raw row's number: the baseline keeps no file ledger.
--
-- The typed events are then shaped into loadstar's staging rows (docs/STAGING_ROWS.md) by SQL: one
-- play per NextSong event, each user's latest event and the distinct play times with their
-- date parts; the whole data set counts as one file. loadstar's workers make the same rows in C++,
-- so the star tables of this case check theirs.

INSERT INTO staging_songs (run_id, file_id, line, num_songs, artist_id, artist_latitude, artist_longitude,
                           artist_location, artist_name, song_id, title, duration, year, match_key)
SELECT {{run_id}}, 0, 1, j.num_songs, j.artist_id, j.artist_latitude, j.artist_longitude,
       j.artist_location, j.artist_name, j.song_id, j.title, j.duration, j.year,
       song_match_key(j.title, j.artist_name, j.duration)
FROM raw_songs r
CROSS JOIN LATERAL jsonb_to_record(r.doc::jsonb) AS j (
  num_songs integer, artist_id text, artist_latitude double precision, artist_longitude double precision,
  artist_location text, artist_name text, song_id text, title text, duration double precision, year integer);

CREATE TEMP TABLE typed_events AS
SELECT r.id AS line, j.*
FROM raw_events r
CROSS JOIN LATERAL jsonb_to_record(r.line::jsonb) AS j (
  artist text, auth text, "firstName" text, gender text, "itemInSession" integer, "lastName" text,
  length double precision, level text, location text, method text, page text, registration double precision,
  "sessionId" bigint, song text, status integer, ts bigint, "userAgent" text, "userId" text);

INSERT INTO staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id, location, user_agent,
                           match_key)
SELECT {{run_id}}, 0, line, "sessionId" * 16777216 + "itemInSession", ts, "userId", level, "sessionId", location,
       "userAgent", song_match_key(song, artist, length)
FROM typed_events
WHERE page = 'NextSong';

INSERT INTO staging_users (run_id, file_id, line, user_id, first_name, last_name, gender, level, ts, session_id,
                           item_in_session)
SELECT DISTINCT ON ("userId") {{run_id}}, 0, line, "userId", "firstName", "lastName", gender, level, ts, "sessionId",
       "itemInSession"
FROM typed_events
WHERE "userId" <> ''
ORDER BY "userId", ts DESC, "sessionId" DESC NULLS LAST, "itemInSession" DESC NULLS LAST,
         "firstName" COLLATE "C", "lastName" COLLATE "C", gender COLLATE "C", level COLLATE "C";

INSERT INTO staging_time (run_id, file_id, ts, hour, day, week, month, year, weekday)
SELECT {{run_id}}, 0, ts, date_part('hour', t)::int, date_part('day', t)::int, date_part('week', t)::int,
       date_part('month', t)::int, date_part('year', t)::int, date_part('dow', t)::int
FROM (SELECT DISTINCT ts, timestamp 'epoch' + ts * interval '1 millisecond' AS t
      FROM typed_events WHERE page = 'NextSong') d;
