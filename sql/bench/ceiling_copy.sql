-- The typed-COPY ceiling: the rows the baseline typed (sql/bench/export_typed.sql), already as
-- COPY text, streamed into the staging tables with COPY FROM STDIN, the way loadstar's workers
-- send theirs. Runs with search_path set to the ceiling's schema, after sql/postgres/schema.sql;
-- sql/postgres/transform.sql follows.
--   {{plays_file}}, {{users_file}}, {{time_file}}, {{songs_file}}: client-side paths, substituted as psql \copy file names.
\copy staging_plays FROM {{plays_file}}
\copy staging_users FROM {{users_file}}
\copy staging_time FROM {{time_file}}
\copy staging_songs FROM {{songs_file}}
