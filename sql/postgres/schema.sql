-- loadstar's tables in one schema: run state, the file ledger, staging, rejects and the star.
-- Idempotent: safe to run on every start. Serialised by an advisory lock so that two
-- coordinators starting at once cannot race on CREATE ... IF NOT EXISTS.
SELECT pg_advisory_xact_lock(hashtext('loadstar.schema.' || current_schema()));

-- One row per run: what it loaded, how far it got, how it ended.
CREATE TABLE IF NOT EXISTS runs (
  run_id        bigserial PRIMARY KEY,
  sources       text        NOT NULL,  -- "songs=<uri> events=<uri>": a rerun over the same sources resumes
  state         text        NOT NULL,  -- staging | transforming | done | failed
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  files_listed  bigint      NOT NULL DEFAULT 0,
  files_skipped bigint      NOT NULL DEFAULT 0,  -- already loaded with the same ETag
  bytes_listed  bigint      NOT NULL DEFAULT 0,
  error         text
);

-- The file ledger: every file ever staged, with the ETag it had. A file is 'staged' once its rows
-- and this row committed together, 'loaded' once the run that staged it has been transformed.
CREATE TABLE IF NOT EXISTS load_files (
  file_id    bigserial PRIMARY KEY,
  uri        text        NOT NULL UNIQUE,
  kind       text        NOT NULL,  -- song | event
  etag       text        NOT NULL,
  size       bigint      NOT NULL,
  run_id     bigint      NOT NULL,
  state      text        NOT NULL,  -- new | staged | loaded
  records    bigint      NOT NULL DEFAULT 0,
  staged     bigint      NOT NULL DEFAULT 0,
  rejected   bigint      NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  staged_rows bigint     DEFAULT 0  -- rows staged across the staging tables; NULL: staged by an older loadstar
);
CREATE INDEX IF NOT EXISTS load_files_run ON load_files (run_id, state);

-- Staging: the rows workers shaped for the star (docs/STAGING_ROWS.md), each traceable to its
-- file (and line). UNLOGGED: a buffer between the workers and the transform need not be written
-- twice (heap and WAL). A server crash empties it; the coordinator then finds the ledger's staged
-- rows missing and stages those files again (run_staging_intact.sql, run_restage.sql).
CREATE UNLOGGED TABLE IF NOT EXISTS staging_plays (
  run_id      bigint NOT NULL,
  file_id     bigint NOT NULL,
  line        bigint NOT NULL,
  songplay_id bigint NOT NULL,
  ts          bigint NOT NULL,
  user_id     text,
  level       text,
  session_id  bigint,
  location    text,
  user_agent  text,
  match_key   bigint
);

CREATE UNLOGGED TABLE IF NOT EXISTS staging_users (
  run_id          bigint NOT NULL,
  file_id         bigint NOT NULL,
  line            bigint NOT NULL,
  user_id         text   NOT NULL,
  first_name      text,
  last_name       text,
  gender          text,
  level           text,
  ts              bigint NOT NULL,
  session_id      bigint,
  item_in_session integer
);

CREATE UNLOGGED TABLE IF NOT EXISTS staging_time (
  run_id  bigint  NOT NULL,
  file_id bigint  NOT NULL,
  ts      bigint  NOT NULL,
  hour    integer NOT NULL,
  day     integer NOT NULL,
  week    integer NOT NULL,
  month   integer NOT NULL,
  year    integer NOT NULL,
  weekday integer NOT NULL
);

CREATE UNLOGGED TABLE IF NOT EXISTS staging_songs (
  run_id           bigint NOT NULL,
  file_id          bigint NOT NULL,
  line             bigint NOT NULL,
  num_songs        integer,
  artist_id        text NOT NULL,
  artist_latitude  double precision,
  artist_longitude double precision,
  artist_location  text,
  artist_name      text,
  song_id          text NOT NULL,
  title            text,
  duration         double precision,
  year             integer,
  match_key        bigint
);

-- Schemas made by an older loadstar: staging_songs gains its match key and becomes unlogged, and
-- the events table it staged into goes (a run it left staged is staged again: its files have no
-- staged_rows count, see run_staging_intact.sql).
ALTER TABLE staging_songs ADD COLUMN IF NOT EXISTS match_key bigint;
DO $$
BEGIN
  IF (SELECT relpersistence FROM pg_class WHERE oid = to_regclass('staging_songs')) = 'p' THEN
    ALTER TABLE staging_songs SET UNLOGGED;
  END IF;
END
$$;
DROP TABLE IF EXISTS staging_events;
ALTER TABLE load_files ADD COLUMN IF NOT EXISTS staged_rows bigint;
ALTER TABLE load_files ALTER COLUMN staged_rows SET DEFAULT 0;

-- Records that could not be loaded, with where they came from and why.
CREATE TABLE IF NOT EXISTS rejects (
  run_id      bigint      NOT NULL,
  file_id     bigint      NOT NULL,
  line        bigint      NOT NULL,
  byte_offset bigint      NOT NULL,
  reason      text        NOT NULL,
  excerpt     text        NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rejects_file ON rejects (file_id, run_id);

-- The star schema.
CREATE TABLE IF NOT EXISTS songs (
  song_id   text PRIMARY KEY,
  title     text,
  artist_id text,
  year      integer,           -- NULL where the source says 0 (unknown)
  duration  double precision
);

CREATE TABLE IF NOT EXISTS artists (
  artist_id text PRIMARY KEY,
  name      text,
  location  text,
  latitude  double precision,
  longitude double precision
);

CREATE TABLE IF NOT EXISTS users (
  user_id    text PRIMARY KEY,
  first_name text,
  last_name  text,
  gender     text,
  level      text,
  as_of      timestamp  -- start time of the event these attributes come from (the user's latest)
);

CREATE TABLE IF NOT EXISTS time (
  start_time timestamp PRIMARY KEY,
  hour       integer,
  day        integer,
  week       integer,
  month      integer,
  year       integer,
  weekday    integer   -- 0 = Sunday
);

CREATE TABLE IF NOT EXISTS songplays (
  songplay_id bigint PRIMARY KEY,  -- session_id * 2^24 + item_in_session: stable across reruns
  start_time  timestamp NOT NULL,
  user_id     text,
  level       text,
  song_id     text,
  artist_id   text,
  session_id  bigint,
  location    text,
  user_agent  text,
  -- For a play no catalogue song matched yet: song_match_key(song, artist, length), so that a
  -- later load of the catalogue can match it. NULL once matched.
  unmatched_key bigint
);
ALTER TABLE songplays ADD COLUMN IF NOT EXISTS unmatched_key bigint;

-- The key a play is matched to its song on, hashed: title (the play's song), artist name and
-- duration (the play's length). "+ 0" makes -0 and 0, which compare equal, hash alike too. A SQL
-- function PostgreSQL inlines, so that every statement computes the key the same way.
CREATE OR REPLACE FUNCTION song_match_key(title text, artist_name text, duration double precision)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT hashtextextended(title || chr(31) || artist_name || chr(31) || (duration + 0::float8)::text, 0) $$;

-- What a play is matched on: one row per (title, artist_name, duration) that any song record
-- loaded so far carries, with the song it names; where several records carry the same three, the
-- lowest song_id (then artist_id). Each record counts with its own artist_name: one artist_id
-- comes with several spellings of its name across song records, and artists keeps only one.
-- Maintained by the transform. The three are not a primary key because a title or name can be
-- longer than an index entry holds; rows are found by match_key, a hash of the three (the same
-- hash a play keeps in songplays.unmatched_key until its song is loaded).
DO $$
BEGIN
  IF to_regclass('song_matches') IS NULL THEN
    CREATE TABLE song_matches (
      match_key   bigint           NOT NULL,
      title       text             NOT NULL,
      artist_name text             NOT NULL,
      duration    double precision NOT NULL,
      song_id     text             NOT NULL,
      artist_id   text             NOT NULL
    );
    CREATE INDEX song_matches_key ON song_matches (match_key);
    -- A schema loaded before this table existed: its song records are gone, so its songs go in
    -- under the name artists kept for their artist_id, as plays were matched until then. Loading
    -- the song files again (--full-refresh) adds every record's own name.
    INSERT INTO song_matches (match_key, title, artist_name, duration, song_id, artist_id)
    SELECT DISTINCT ON (k, s.title, a.name, s.duration) k, s.title, a.name, s.duration, s.song_id, s.artist_id
    FROM songs s
    JOIN artists a ON a.artist_id = s.artist_id
    CROSS JOIN LATERAL (SELECT song_match_key(s.title, a.name, s.duration)) h (k)
    WHERE s.title IS NOT NULL AND a.name IS NOT NULL AND s.duration IS NOT NULL
    ORDER BY k, s.title, a.name, s.duration, s.song_id, s.artist_id;
  END IF;
END
$$;
