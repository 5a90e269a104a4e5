-- PostgreSQL alone, as a competent engineer would write it, step 2: type the raw JSON with
-- jsonb_to_record into staging tables made by CREATE TABLE AS, UNLOGGED like the raw text they
-- come from. Runs with search_path set to the case's schema, after competent_raw.sql.

CREATE UNLOGGED TABLE staging_songs AS
SELECT j.num_songs, j.artist_id, j.artist_latitude, j.artist_longitude, j.artist_location, j.artist_name,
       j.song_id, j.title, j.duration, j.year
FROM raw_songs r
CROSS JOIN LATERAL jsonb_to_record(r.doc::jsonb) AS j (
  num_songs integer, artist_id text, artist_latitude double precision, artist_longitude double precision,
  artist_location text, artist_name text, song_id text, title text, duration double precision, year integer);

CREATE UNLOGGED TABLE staging_events AS
SELECT j.artist, j.auth, j."firstName" AS first_name, j.gender, j."itemInSession" AS item_in_session,
       j."lastName" AS last_name, j.length, j.level, j.location, j.method, j.page, j.registration,
       j."sessionId" AS session_id, j.song, j.status, j.ts, j."userAgent" AS user_agent, j."userId" AS user_id
FROM raw_events r
CROSS JOIN LATERAL jsonb_to_record(r.line::jsonb) AS j (
  artist text, auth text, "firstName" text, gender text, "itemInSession" integer, "lastName" text,
  length double precision, level text, location text, method text, page text, registration double precision,
  "sessionId" bigint, song text, status integer, ts bigint, "userAgent" text, "userId" text);
