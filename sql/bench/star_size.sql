-- The five star tables' size on disk: heap (with TOAST and the free-space and visibility maps),
-- indexes, and both (pg_total_relation_size). Runs with search_path set to the case's schema.
-- Not timed.
SELECT sum(pg_table_size(t::regclass)) AS heap_bytes, sum(pg_indexes_size(t::regclass)) AS index_bytes,
       sum(pg_total_relation_size(t::regclass)) AS total_bytes
FROM unnest(ARRAY['songplays', 'users', 'songs', 'artists', 'time']) AS t;
