-- DuckDB, step 1: read the song and event files with read_json straight into typed staging tables
-- of DuckDB's own (CREATE TABLE AS). Run by bench/duckdb_load.mjs in a fresh DuckDB database file.
--   {{songs_glob}}, {{events_glob}}: every *.json file under the data set's song_data/ and
--   log_data/ (a '**' glob), substituted as string literals.
-- A song file holds one JSON document, an event file one per line: both read as
-- newline-delimited JSON, with the columns and types named, as the PostgreSQL cases type them.

CREATE TABLE staging_songs AS
SELECT num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name,
       song_id, title, duration, year
FROM read_json({{songs_glob}}, format = 'newline_delimited', columns = {
  num_songs: 'INTEGER', artist_id: 'VARCHAR', artist_latitude: 'DOUBLE', artist_longitude: 'DOUBLE',
  artist_location: 'VARCHAR', artist_name: 'VARCHAR', song_id: 'VARCHAR', title: 'VARCHAR',
  duration: 'DOUBLE', year: 'INTEGER'});

CREATE TABLE staging_events AS
SELECT artist, auth, firstName AS first_name, gender, itemInSession AS item_in_session,
       lastName AS last_name, length, level, location, method, page, registration,
       sessionId AS session_id, song, status, ts, userAgent AS user_agent, userId AS user_id
FROM read_json({{events_glob}}, format = 'newline_delimited', columns = {
  artist: 'VARCHAR', auth: 'VARCHAR', firstName: 'VARCHAR', gender: 'VARCHAR', itemInSession: 'INTEGER',
  lastName: 'VARCHAR', length: 'DOUBLE', level: 'VARCHAR', location: 'VARCHAR', method: 'VARCHAR',
  page: 'VARCHAR', registration: 'DOUBLE', sessionId: 'BIGINT', song: 'VARCHAR', status: 'INTEGER',
  ts: 'BIGINT', userAgent: 'VARCHAR', userId: 'VARCHAR'});
