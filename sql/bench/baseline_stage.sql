-- The PostgreSQL-only baseline, step 2: type the raw JSON into loadstar's own staging tables with
-- jsonb_to_record, so that step 3 can run the very transforms loadstar runs
-- (sql/postgres/transform.sql). Runs with search_path set to the baseline's schema.
--   {{run_id}}: the run the staging rows belong to, an integer.
-- file_id is 0 and line is the raw row's number: the baseline keeps no file ledger.

INSERT INTO staging_songs (run_id, file_id, line, num_songs, artist_id, artist_latitude, artist_longitude,
                           artist_location, artist_name, song_id, title, duration, year)
SELECT {{run_id}}, 0, 1, j.num_songs, j.artist_id, j.artist_latitude, j.artist_longitude,
       j.artist_location, j.artist_name, j.song_id, j.title, j.duration, j.year
FROM raw_songs r
CROSS JOIN LATERAL jsonb_to_record(r.doc::jsonb) AS j (
  num_songs integer, artist_id text, artist_latitude double precision, artist_longitude double precision,
  artist_location text, artist_name text, song_id text, title text, duration double precision, year integer);

INSERT INTO staging_events (run_id, file_id, line, artist, auth, first_name, gender, item_in_session, last_name,
                            length, level, location, method, page, registration, session_id, song, status, ts,
                            user_agent, user_id)
SELECT {{run_id}}, 0, r.id, j.artist, j.auth, j."firstName", j.gender, j."itemInSession", j."lastName",
       j.length, j.level, j.location, j.method, j.page, j.registration, j."sessionId", j.song, j.status, j.ts,
       j."userAgent", j."userId"
FROM raw_events r
CROSS JOIN LATERAL jsonb_to_record(r.line::jsonb) AS j (
  artist text, auth text, "firstName" text, gender text, "itemInSession" integer, "lastName" text,
  length double precision, level text, location text, method text, page text, registration double precision,
  "sessionId" bigint, song text, status integer, ts bigint, "userAgent" text, "userId" text);
