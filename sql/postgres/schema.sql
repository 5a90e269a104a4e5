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
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS load_files_run ON load_files (run_id, state);

-- Staging: typed rows as loaded, each traceable to its file and line.
CREATE TABLE IF NOT EXISTS staging_events (
  run_id          bigint NOT NULL,
  file_id         bigint NOT NULL,
  line            bigint NOT NULL,
  artist          text,
  auth            text,
  first_name      text,
  gender          text,
  item_in_session integer,
  last_name       text,
  length          double precision,
  level           text,
  location        text,
  method          text,
  page            text,
  registration    double precision,
  session_id      bigint,
  song            text,
  status          integer,
  ts              bigint NOT NULL,
  user_agent      text,
  user_id         text
);

CREATE TABLE IF NOT EXISTS staging_songs (
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
  year             integer
);

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
  -- For a play no catalogue song matched yet: a hash of its (song, artist, length), so that a
  -- later load of the catalogue can match it. NULL once matched.
  unmatched_key bigint
);
ALTER TABLE songplays ADD COLUMN IF NOT EXISTS unmatched_key bigint;
