-- loadstar's tables in one Amazon Redshift schema: run state, the file ledger, staging, rejects and
-- the star. Idempotent: safe to run on every start, in a transaction of its own. Redshift has no
-- advisory locks to serialise two coordinators starting at once on a new schema: the one that
-- loses a race on CREATE TABLE fails, and running it again finds the tables there.
--
-- Types: every text that comes from the input or from outside loadstar is VARCHAR(65535)
-- (Redshift's widest; TEXT would be VARCHAR(256)). Keys the input supplies (song_id, artist_id,
-- user_id) are VARCHAR(1024): the worker rejects a record whose key is longer than 1024 bytes, so
-- no staged key can exceed that, and a narrow column keeps Redshift's sorts and hashes small.
-- Values loadstar itself writes (states, kinds) are short. Redshift counts VARCHAR lengths in
-- bytes. Primary and unique keys are declared for the planner; Redshift does not enforce them:
-- the transform keeps them true and the checks under checks/ prove it.
--
-- Distribution and sort keys follow the analysts' questions (report/): plays per hour and per
-- day join songplays to time on start_time; the most active listeners join users on user_id;
-- the top songs and artists join songs and artists on song_id and artist_id. Stated per table.

-- One row per run: what it loaded, how far it got, how it ended. run_id is assigned by loadstar
-- (run_next_id.sql under LOCK runs), not by an IDENTITY column, whose values have gaps and order
-- no one can rely on. A handful of rows: a copy on every node.
CREATE TABLE IF NOT EXISTS runs (
  run_id        BIGINT          NOT NULL PRIMARY KEY,
  sources       VARCHAR(65535)  NOT NULL,  -- "songs=<uri> events=<uri>": a rerun over the same sources resumes
  state         VARCHAR(16)     NOT NULL,  -- staging | transforming | done | failed
  started_at    TIMESTAMP       NOT NULL,
  finished_at   TIMESTAMP,
  files_listed  BIGINT          NOT NULL DEFAULT 0,
  files_skipped BIGINT          NOT NULL DEFAULT 0,  -- already loaded with the same ETag
  bytes_listed  BIGINT          NOT NULL DEFAULT 0,
  error         VARCHAR(65535),
  -- The session (pg_backend_pid()) of the coordinator serving the run. Redshift has no advisory
  -- locks: a coordinator starting while this session is alive (stv_sessions) is turned away.
  owner_pid     INTEGER
)
DISTSTYLE ALL;

-- The file ledger: every file ever loaded, with the ETag it had. On Redshift a run's files are
-- staged and loaded in one transaction, so every row is 'loaded' (the transform writes it from
-- staging_files); file_id is assigned by the coordinator, and a file that changed keeps its id.
-- Distributed on uri like staging_files, so the transform's MERGE on uri joins on each node;
-- sorted by run, which the run accounts filter on.
CREATE TABLE IF NOT EXISTS load_files (
  file_id    BIGINT          NOT NULL PRIMARY KEY,
  uri        VARCHAR(65535)  NOT NULL UNIQUE,
  kind       VARCHAR(16)     NOT NULL,  -- song | event
  etag       VARCHAR(65535)  NOT NULL,
  size       BIGINT          NOT NULL,
  run_id     BIGINT          NOT NULL,
  state      VARCHAR(16)     NOT NULL,  -- loaded
  records    BIGINT          NOT NULL DEFAULT 0,
  staged     BIGINT          NOT NULL DEFAULT 0,
  rejected   BIGINT          NOT NULL DEFAULT 0,
  updated_at TIMESTAMP       NOT NULL
)
DISTKEY (uri)
SORTKEY (run_id);

-- Staging: the rows workers shaped for the star (docs/STAGING_ROWS.md), as COPY loaded them, each
-- traceable to its file (and line). Emptied at the end of every run's transaction, so left out of
-- snapshots (BACKUP NO). Read once per run by the transform, which groups them by several
-- different keys: spread evenly, sorted by run (every statement reads one run's rows).

-- One row per NextSong event. songplay_id = session_id * 2^24 + item_in_session; match_key is the
-- song-matching key of (song, artist, length) (see song_matches), NULL where one of them is.
CREATE TABLE IF NOT EXISTS staging_plays (
  run_id      BIGINT          NOT NULL,
  file_id     BIGINT          NOT NULL,
  line        BIGINT          NOT NULL,
  songplay_id BIGINT          NOT NULL,
  ts          BIGINT          NOT NULL,
  user_id     VARCHAR(1024),
  level       VARCHAR(65535),
  session_id  BIGINT,
  location    VARCHAR(65535),
  user_agent  VARCHAR(65535),
  match_key   BIGINT
)
BACKUP NO
DISTSTYLE EVEN
SORTKEY (run_id);

-- One row per user and file: the user's latest event in that file, a candidate for users.
CREATE TABLE IF NOT EXISTS staging_users (
  run_id          BIGINT          NOT NULL,
  file_id         BIGINT          NOT NULL,
  line            BIGINT          NOT NULL,
  user_id         VARCHAR(1024)   NOT NULL,
  first_name      VARCHAR(65535),
  last_name       VARCHAR(65535),
  gender          VARCHAR(65535),
  level           VARCHAR(65535),
  ts              BIGINT          NOT NULL,
  session_id      BIGINT,
  item_in_session INTEGER
)
BACKUP NO
DISTSTYLE EVEN
SORTKEY (run_id);

-- One row per distinct play time (ts, epoch milliseconds) in a file, with the parts of its start
-- time as PostgreSQL's date_part gives them (ISO week, weekday 0 = Sunday).
CREATE TABLE IF NOT EXISTS staging_time (
  run_id  BIGINT   NOT NULL,
  file_id BIGINT   NOT NULL,
  ts      BIGINT   NOT NULL,
  hour    INTEGER  NOT NULL,
  day     INTEGER  NOT NULL,
  week    INTEGER  NOT NULL,
  month   INTEGER  NOT NULL,
  year    INTEGER  NOT NULL,
  weekday INTEGER  NOT NULL
)
BACKUP NO
DISTSTYLE EVEN
SORTKEY (run_id);

-- One row per song record, with the song-matching key of its (title, artist_name, duration).
CREATE TABLE IF NOT EXISTS staging_songs (
  run_id           BIGINT           NOT NULL,
  file_id          BIGINT           NOT NULL,
  line             BIGINT           NOT NULL,
  num_songs        INTEGER,
  artist_id        VARCHAR(1024)    NOT NULL,
  artist_latitude  DOUBLE PRECISION,
  artist_longitude DOUBLE PRECISION,
  artist_location  VARCHAR(65535),
  artist_name      VARCHAR(65535),
  song_id          VARCHAR(1024)    NOT NULL,
  title            VARCHAR(65535),
  duration         DOUBLE PRECISION,
  year             INTEGER,
  match_key        BIGINT
)
BACKUP NO
DISTSTYLE EVEN
SORTKEY (run_id);

-- The accounts of the files a run staged (records read, records staged, records rejected, and
-- the rows staged for them across the four staging tables above), loaded by COPY with the rows
-- themselves; the transform moves them into load_files. Distributed on uri like load_files.
CREATE TABLE IF NOT EXISTS staging_files (
  run_id      BIGINT          NOT NULL,
  file_id     BIGINT          NOT NULL,
  uri         VARCHAR(65535)  NOT NULL,
  kind        VARCHAR(16)     NOT NULL,
  etag        VARCHAR(65535)  NOT NULL,
  size        BIGINT          NOT NULL,
  records     BIGINT          NOT NULL,
  staged      BIGINT          NOT NULL,
  rejected    BIGINT          NOT NULL,
  staged_rows BIGINT          NOT NULL
)
BACKUP NO
DISTKEY (uri)
SORTKEY (run_id);

-- Records that could not be loaded, with where they came from and why. COPY fills the first six
-- columns; the transform stamps rejected_at (Redshift has no default that PostgreSQL shares: its
-- GETDATE() and SYSDATE do not exist there, and PostgreSQL would fix a literal at CREATE time).
CREATE TABLE IF NOT EXISTS rejects (
  run_id      BIGINT          NOT NULL,
  file_id     BIGINT          NOT NULL,
  line        BIGINT          NOT NULL,
  byte_offset BIGINT          NOT NULL,
  reason      VARCHAR(65535)  NOT NULL,
  excerpt     VARCHAR(65535)  NOT NULL,
  rejected_at TIMESTAMP
)
DISTSTYLE EVEN
SORTKEY (run_id, file_id);

-- The star schema.

-- The catalogue dimensions, songs and artists, are small next to the plays (one row per song
-- record) and change only when song files are loaded: a copy on every node, so the top songs and
-- artists join them where the plays are.
CREATE TABLE IF NOT EXISTS songs (
  song_id   VARCHAR(1024)    NOT NULL PRIMARY KEY,
  title     VARCHAR(65535),
  artist_id VARCHAR(1024),
  year      INTEGER,           -- NULL where the source says 0 (unknown)
  duration  DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (song_id);

CREATE TABLE IF NOT EXISTS artists (
  artist_id VARCHAR(1024)    NOT NULL PRIMARY KEY,
  name      VARCHAR(65535),
  location  VARCHAR(65535),
  latitude  DOUBLE PRECISION,
  longitude DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (artist_id);

-- One row per listener: small, joined to the plays on user_id: a copy on every node.
CREATE TABLE IF NOT EXISTS users (
  user_id    VARCHAR(1024)   NOT NULL PRIMARY KEY,
  first_name VARCHAR(65535),
  last_name  VARCHAR(65535),
  gender     VARCHAR(65535),
  level      VARCHAR(65535),
  as_of      TIMESTAMP  -- start time of the event these attributes come from (the user's latest)
)
DISTSTYLE ALL
SORTKEY (user_id);

-- One row per distinct play start time: as many rows as plays, so not copied to every node but
-- distributed and sorted on start_time like songplays: plays per hour and per day join the two
-- on the same node, by merge join over the shared sort order.
CREATE TABLE IF NOT EXISTS time (
  start_time TIMESTAMP  NOT NULL PRIMARY KEY,
  hour       INTEGER,
  day        INTEGER,
  week       INTEGER,
  month      INTEGER,
  year       INTEGER,
  weekday    INTEGER   -- 0 = Sunday
)
DISTKEY (start_time)
SORTKEY (start_time);

-- The fact table: distributed on start_time, its join key with time and spread evenly by nature
-- (song_id, the usual choice, is NULL for every play the catalogue does not know, which here is
-- most of them: one node would hold them all); sorted on start_time, which analysts filter on.
CREATE TABLE IF NOT EXISTS songplays (
  songplay_id BIGINT          NOT NULL PRIMARY KEY,  -- session_id * 2^24 + item_in_session: stable across reruns
  start_time  TIMESTAMP       NOT NULL,
  user_id     VARCHAR(1024),
  level       VARCHAR(65535),
  song_id     VARCHAR(1024),
  artist_id   VARCHAR(1024),
  session_id  BIGINT,
  location    VARCHAR(65535),
  user_agent  VARCHAR(65535),
  -- For a play no catalogue song matched yet: the match key of its (song, artist, length) (see
  -- song_matches), so that a later load of the catalogue can match it. NULL once matched, and
  -- where the play lacks one of the three.
  unmatched_key BIGINT
)
DISTKEY (start_time)
SORTKEY (start_time);

-- What a play is matched on: one row per (title, artist_name, duration) that any song record
-- loaded so far carries, with the song it names; where several records carry the same three, the
-- lowest song_id (then artist_id). Each record counts with its own artist_name: one artist_id
-- comes with several spellings of its name across song records, and artists keeps only one.
-- Maintained by the transform. match_key is the workers' 64-bit song-matching key of the three
-- (PostgreSQL's hashtextextended(title || chr(31) || artist_name || chr(31) || duration, 0), the
-- duration as PostgreSQL writes a float8 and -0 as 0; docs/STAGING_ROWS.md), staged with the song
-- record, the same key a play keeps in songplays.unmatched_key until its song is loaded. No primary key is
-- declared: the three columns are the key, and Redshift would trust a declared one without
-- checking it. Catalogue-sized and read by the transform's join with every run's plays: a copy
-- on every node.
CREATE TABLE IF NOT EXISTS song_matches (
  match_key   BIGINT           NOT NULL,
  title       VARCHAR(65535)   NOT NULL,
  artist_name VARCHAR(65535)   NOT NULL,
  duration    DOUBLE PRECISION NOT NULL,
  song_id     VARCHAR(1024)    NOT NULL,
  artist_id   VARCHAR(1024)    NOT NULL
)
DISTSTYLE ALL
SORTKEY (match_key);
