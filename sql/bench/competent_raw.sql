-- PostgreSQL alone, as a competent engineer would write it, step 1: land the sources as raw text
-- in UNLOGGED tables (scratch data: nothing to recover after a crash but the files themselves).
-- The harness (bench/run) runs it with search_path set to the case's schema, just created.
--   {{songs_root}}, {{events_root}}: absolute directories, substituted as string literals,
--   readable by the server's operating-system user (server-side COPY and pg_read_file).
--
-- The bytes get in the way sql/bench/baseline_raw.sql gets them in: each song file (one JSON
-- document) read whole with pg_read_file, each event file COPY'd line by line into a text column
-- with a quote and a delimiter that valid JSON text never contains unescaped (0x01, 0x02), so
-- that every byte of a line stays as it is.

CREATE UNLOGGED TABLE raw_songs (doc text NOT NULL);
CREATE UNLOGGED TABLE raw_events (line text NOT NULL);

-- Every *.json file under the two roots, found by walking the directories from SQL.
CREATE TEMP TABLE source_files AS
WITH RECURSIVE tree (path, is_dir, kind) AS (
  SELECT r.path, true, r.kind
  FROM (VALUES ({{songs_root}}::text, 'song'), ({{events_root}}::text, 'event')) AS r (path, kind)
  UNION ALL
  SELECT t.path || '/' || f.name, (pg_stat_file(t.path || '/' || f.name)).isdir, t.kind
  FROM tree t CROSS JOIN LATERAL pg_ls_dir(t.path) AS f (name)
  WHERE t.is_dir
)
SELECT path, kind FROM tree WHERE NOT is_dir AND path LIKE '%.json';

INSERT INTO raw_songs (doc)
SELECT pg_read_file(path) FROM source_files WHERE kind = 'song';

DO $$
DECLARE
  p text;
BEGIN
  FOR p IN SELECT path FROM source_files WHERE kind = 'event' ORDER BY path LOOP
    EXECUTE format('COPY raw_events (line) FROM %L WITH (FORMAT csv, DELIMITER E''\x02'', QUOTE E''\x01'')', p);
  END LOOP;
END
$$;

-- What was landed, for the harness's log.
SELECT (SELECT count(*) FROM source_files) AS files,
       (SELECT count(*) FROM raw_songs) AS song_documents,
       (SELECT count(*) FROM raw_events) AS event_lines;
