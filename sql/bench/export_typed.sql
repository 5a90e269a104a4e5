-- Writes the baseline's typed staging rows as COPY text files, the input of the typed-COPY
-- ceiling (sql/bench/ceiling_copy.sql). Runs with search_path set to the baseline's schema,
-- after sql/bench/baseline_stage.sql and before the transforms clear the staging rows. Not timed.
--   {{run_id}}: an integer; {{plays_file}}, {{users_file}}, {{time_file}}, {{songs_file}}: client-side paths, substituted as
--   psql \copy file names (single-quoted).
\copy (SELECT * FROM staging_plays WHERE run_id = {{run_id}}) TO {{plays_file}}
\copy (SELECT * FROM staging_users WHERE run_id = {{run_id}}) TO {{users_file}}
\copy (SELECT * FROM staging_time WHERE run_id = {{run_id}}) TO {{time_file}}
\copy (SELECT * FROM staging_songs WHERE run_id = {{run_id}}) TO {{songs_file}}
