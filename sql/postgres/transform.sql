-- The set-based transforms from one run's staging rows into the star schema. Runs in one
-- transaction together with marking the run done, so a failure anywhere leaves the previous
-- tables untouched. {{run_id}} is substituted as an integer.
--
-- Rerunning the same input changes nothing: every table is upserted on its natural key, and an
-- existing row is only rewritten when its values differ.
--
-- Conflicting duplicates are resolved the same way whatever the worker count, file order or
-- split into runs: the version that sorts first by its attributes wins (songs: title, artist_id,
-- year, duration; artists: name, location, latitude, longitude; NULLs last; song matches: the
-- lowest song_id, then artist_id), and for users the attributes of the latest event by ts (ties:
-- the higher session_id, then item_in_session).

-- Sorts and hashes of a million-row run fit in memory; the setting ends with the transaction.
SET LOCAL work_mem = '256MB';

-- Fresh statistics for the rows just staged (the columns the transforms join and filter on), so
-- the planner sizes its hash joins and sorts for them. A small sample is enough for that (the
-- default one reads nearly every page of a million plays).
SET LOCAL default_statistics_target = 10;
ANALYZE staging_plays (run_id, songplay_id, match_key);
ANALYZE staging_users (run_id, user_id);
ANALYZE staging_time (run_id, ts);
ANALYZE staging_songs (run_id, file_id, song_id, artist_id, match_key);
ANALYZE load_files;

-- Songs: every version seen in this run plus the one already loaded; the first by attributes wins.
INSERT INTO songs AS t (song_id, title, artist_id, year, duration)
SELECT DISTINCT ON (song_id) song_id, title, artist_id, year, duration
FROM (
  SELECT song_id, title, artist_id, NULLIF(year, 0) AS year, duration
  FROM staging_songs WHERE run_id = {{run_id}}
  UNION ALL
  SELECT s.song_id, s.title, s.artist_id, s.year, s.duration
  FROM songs s WHERE s.song_id IN (SELECT song_id FROM staging_songs WHERE run_id = {{run_id}})
) v
ORDER BY song_id, title, artist_id, year, duration
ON CONFLICT (song_id) DO UPDATE
SET title = excluded.title, artist_id = excluded.artist_id, year = excluded.year, duration = excluded.duration
WHERE (t.title, t.artist_id, t.year, t.duration)
      IS DISTINCT FROM (excluded.title, excluded.artist_id, excluded.year, excluded.duration);

-- Artists, from the song records.
INSERT INTO artists AS t (artist_id, name, location, latitude, longitude)
SELECT DISTINCT ON (artist_id) artist_id, name, location, latitude, longitude
FROM (
  SELECT artist_id, artist_name AS name, artist_location AS location,
         artist_latitude AS latitude, artist_longitude AS longitude
  FROM staging_songs WHERE run_id = {{run_id}}
  UNION ALL
  SELECT a.artist_id, a.name, a.location, a.latitude, a.longitude
  FROM artists a WHERE a.artist_id IN (SELECT artist_id FROM staging_songs WHERE run_id = {{run_id}})
) v
ORDER BY artist_id, name, location, latitude, longitude
ON CONFLICT (artist_id) DO UPDATE
SET name = excluded.name, location = excluded.location, latitude = excluded.latitude, longitude = excluded.longitude
WHERE (t.name, t.location, t.latitude, t.longitude)
      IS DISTINCT FROM (excluded.name, excluded.location, excluded.latitude, excluded.longitude);

-- Users: attributes of each user's latest event in this run (the workers sent each file's latest
-- per user; the same order picks among them); a user already loaded keeps theirs if their latest
-- event overall is older than that.
INSERT INTO users AS t (user_id, first_name, last_name, gender, level, as_of)
SELECT DISTINCT ON (user_id) user_id, first_name, last_name, gender, level,
       timestamp 'epoch' + ts * interval '1 millisecond'
FROM staging_users
WHERE run_id = {{run_id}}
ORDER BY user_id, ts DESC, session_id DESC NULLS LAST, item_in_session DESC NULLS LAST,
         first_name COLLATE "C", last_name COLLATE "C", gender COLLATE "C", level COLLATE "C"
ON CONFLICT (user_id) DO UPDATE
SET first_name = excluded.first_name, last_name = excluded.last_name, gender = excluded.gender,
    level = excluded.level, as_of = excluded.as_of
WHERE excluded.as_of >= t.as_of
  AND (t.first_name, t.last_name, t.gender, t.level, t.as_of)
      IS DISTINCT FROM (excluded.first_name, excluded.last_name, excluded.gender, excluded.level, excluded.as_of);

-- Song matches, from this run's song records: a (title, artist_name, duration) new to
-- song_matches goes in; one already there takes this run's song where that has a lower song_id
-- (then artist_id), so the table ends as a single load of every record would leave it.
WITH candidates AS (
  SELECT DISTINCT ON (match_key, title, artist_name, duration)
         match_key, title, artist_name, duration, song_id, artist_id
  FROM (
    SELECT match_key, title, artist_name, duration, song_id, artist_id
    FROM staging_songs
    WHERE run_id = {{run_id}} AND title IS NOT NULL AND artist_name IS NOT NULL AND duration IS NOT NULL
  ) s
  ORDER BY match_key, title, artist_name, duration, song_id, artist_id
),
better AS (
  SELECT c.*
  FROM candidates c
  WHERE NOT EXISTS (SELECT 1 FROM song_matches m
                    WHERE m.match_key = c.match_key AND m.title = c.title AND m.artist_name = c.artist_name
                      AND m.duration = c.duration AND (m.song_id, m.artist_id) <= (c.song_id, c.artist_id))
),
replaced AS (
  DELETE FROM song_matches m
  USING better b
  WHERE m.match_key = b.match_key AND m.title = b.title AND m.artist_name = b.artist_name AND m.duration = b.duration
)
INSERT INTO song_matches (match_key, title, artist_name, duration, song_id, artist_id)
SELECT match_key, title, artist_name, duration, song_id, artist_id FROM better;

ANALYZE song_matches;
RESET default_statistics_target;

-- Plays loaded by earlier runs before their song: match them against the song records this run
-- loaded, by the same rule (the record's own artist_name; the lowest matching song_id), so the
-- tables equal a single load of everything. Only a hash of their key is kept, hence DISTINCT ON.
-- Done before this run's plays go in (they are matched as they go in), so that a first load
-- has nothing to look through.
UPDATE songplays p
SET song_id = c.song_id, artist_id = c.artist_id, unmatched_key = NULL
FROM (
  SELECT DISTINCT ON (m.match_key) m.match_key, m.song_id, m.artist_id
  FROM song_matches m
  WHERE m.match_key IN (SELECT match_key FROM staging_songs WHERE run_id = {{run_id}})
  ORDER BY m.match_key, m.song_id, m.artist_id
) c
WHERE p.unmatched_key = c.match_key AND p.song_id IS NULL;

-- Songplays: one per NextSong event, matched by its match key (the hash of its song, artist and
-- length) to the song records with the same title, artist_name and duration (song_matches; where
-- several keys collide or several records match, the lowest song_id). A play that matches
-- nothing keeps its key in unmatched_key for later catalogue loads. Where several events share a
-- songplay_id, the first by all their columns is kept (ts orders as start_time does).
--
-- The run's plays cover a narrow range of songplay_ids and start times (session ids grow with
-- time): each probe of songplays and time below is bounded by that range as well as by its key,
-- so that an incremental run reads index ranges the size of the run instead of hashing tables
-- the size of the history. Whether songplays and time are empty (a first load) is taken here,
-- once, before anything is written to them. Dropped at commit.
CREATE TEMP TABLE run_bounds ON COMMIT DROP AS
SELECT min(songplay_id) AS first_id, max(songplay_id) AS last_id,
       timestamp 'epoch' + min(ts) * interval '1 millisecond' AS first_time,
       timestamp 'epoch' + max(ts) * interval '1 millisecond' AS last_time,
       NOT EXISTS (SELECT 1 FROM songplays) AS songplays_empty,
       NOT EXISTS (SELECT 1 FROM time) AS time_empty,
       false AS songplays_key_to_build,
       false AS time_key_to_build,
       false AS time_written
FROM staging_plays
WHERE run_id = {{run_id}};

-- A first load, into empty songplays and time: their rows go in without the primary key's index,
-- and the keys are built afterwards, which writes about half as much and takes about half as long
-- as maintaining the index row by row (measured on a million plays). Building a key proves it
-- unique again, so the tables end as keyed as they began. Dropping a key takes the table's
-- exclusive lock until the run commits: readers of the still-empty table wait for the first load
-- rather than see it empty; where a reader holds the table for more than two seconds, the key
-- stays. A key stays too where dropping it would lose something: a foreign key that refers to it,
-- another name, a table published for logical replication or with a replica identity of its own,
-- an index with storage options or a tablespace of its own. Where a key stays, rows go in keyed.
DO $$
DECLARE
  t record;
  lock_timeout_was text := current_setting('lock_timeout');
BEGIN
  FOR t IN SELECT * FROM (VALUES ('songplays', 'songplays_pkey', (SELECT songplays_empty FROM run_bounds)),
                                 ('time', 'time_pkey', (SELECT time_empty FROM run_bounds))) v (tab, key, empty) LOOP
    IF t.empty
       AND EXISTS (SELECT 1
                   FROM pg_constraint c
                   JOIN pg_class i ON i.oid = c.conindid
                   JOIN pg_class r ON r.oid = c.conrelid
                   WHERE c.conrelid = t.tab::regclass AND c.conname = t.key AND c.contype = 'p'
                     AND i.reloptions IS NULL AND i.reltablespace = 0 AND r.relreplident = 'd')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = t.tab::regclass)
       AND NOT EXISTS (SELECT 1 FROM pg_publication_tables WHERE schemaname = current_schema() AND tablename = t.tab)
    THEN
      BEGIN
        PERFORM set_config('lock_timeout', '2s', true);
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t.tab, t.key);
        EXECUTE format('UPDATE run_bounds SET %I = true', t.tab || '_key_to_build');
      EXCEPTION WHEN lock_not_available THEN
        NULL;  -- a reader holds the table: its key stays
      END;
      PERFORM set_config('lock_timeout', lock_timeout_was, true);
    END IF;
  END LOOP;
END
$$;

-- Every staged play of the run as a songplay row, matched; several may share a songplay_id.
CREATE TEMP VIEW run_plays_all AS
SELECT p.songplay_id, p.ts, timestamp 'epoch' + p.ts * interval '1 millisecond' AS start_time, p.user_id, p.level,
       m.song_id, m.artist_id, p.session_id, p.location, p.user_agent,
       CASE WHEN m.song_id IS NULL THEN p.match_key END AS unmatched_key
FROM staging_plays p
LEFT JOIN (SELECT DISTINCT ON (match_key) match_key, song_id, artist_id
           FROM song_matches
           ORDER BY match_key, song_id, artist_id) m ON m.match_key = p.match_key
WHERE p.run_id = {{run_id}};

-- One row per songplay_id, the first by all its columns, in key order.
CREATE TEMP VIEW run_plays AS
SELECT r.songplay_id, r.start_time, r.user_id, r.level, r.song_id, r.artist_id, r.session_id, r.location,
       r.user_agent, r.unmatched_key
FROM (
  SELECT DISTINCT ON (songplay_id) *
  FROM run_plays_all
  ORDER BY songplay_id, ts, user_id, level, song_id, artist_id, session_id, location, user_agent
) r;

-- A first load's songplays: the plays go in as they are, without sorting them to keep one per
-- songplay_id, and building the key proves no two share one (the usual case). Where some do, the
-- key build (or the kept key) fails, that insert is undone, and one per songplay_id goes in.
DO $$
BEGIN
  IF (SELECT songplays_empty FROM run_bounds) THEN
    BEGIN
      INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
                             user_agent, unmatched_key)
      SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent,
             unmatched_key
      FROM run_plays_all;
      IF (SELECT songplays_key_to_build FROM run_bounds) THEN
        ALTER TABLE songplays ADD CONSTRAINT songplays_pkey PRIMARY KEY (songplay_id);
        UPDATE run_bounds SET songplays_key_to_build = false;
      END IF;
    EXCEPTION WHEN unique_violation THEN
      INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
                             user_agent, unmatched_key)
      SELECT * FROM run_plays;
    END;
  END IF;
END
$$;

-- Later loads: an update of the rows that changed and a plain insert of new keys in key order,
-- not INSERT ... ON CONFLICT: its speculative insertion costs about twice as much per row, and
-- nothing else writes these tables while the run holds its lock.
UPDATE songplays t
SET start_time = r.start_time, user_id = r.user_id, level = r.level, song_id = r.song_id,
    artist_id = r.artist_id, session_id = r.session_id, location = r.location, user_agent = r.user_agent,
    unmatched_key = r.unmatched_key
FROM run_plays r
WHERE NOT (SELECT songplays_empty FROM run_bounds)
  AND t.songplay_id = r.songplay_id
  AND t.songplay_id BETWEEN (SELECT first_id FROM run_bounds) AND (SELECT last_id FROM run_bounds)
  AND (t.start_time, t.user_id, t.level, t.song_id, t.artist_id, t.session_id, t.location, t.user_agent,
       t.unmatched_key)
      IS DISTINCT FROM (r.start_time, r.user_id, r.level, r.song_id, r.artist_id, r.session_id, r.location,
                        r.user_agent, r.unmatched_key);

INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
                       user_agent, unmatched_key)
SELECT r.*
FROM run_plays r
WHERE NOT (SELECT songplays_empty FROM run_bounds)
  AND NOT EXISTS (SELECT 1 FROM songplays t
                  WHERE t.songplay_id = r.songplay_id
                    AND t.songplay_id BETWEEN (SELECT first_id FROM run_bounds) AND (SELECT last_id FROM run_bounds));

DROP VIEW run_plays, run_plays_all;

-- Time: one row per distinct songplay start time (the same expression the songplays take theirs
-- from), with the parts the workers computed (PostgreSQL's date_part: ISO week, 0 = Sunday).
-- Each file's times are distinct already; files rarely share one. A first load puts them in as
-- they are and building the key proves them distinct, as for songplays; where files do share a
-- time, or on a later load, only times not there yet go in, one each, in key order (a time
-- already there is the same row).
DO $$
BEGIN
  IF (SELECT time_empty FROM run_bounds) THEN
    BEGIN
      INSERT INTO time (start_time, hour, day, week, month, year, weekday)
      SELECT timestamp 'epoch' + s.ts * interval '1 millisecond', s.hour, s.day, s.week, s.month, s.year, s.weekday
      FROM staging_time s
      WHERE s.run_id = {{run_id}};
      IF (SELECT time_key_to_build FROM run_bounds) THEN
        ALTER TABLE time ADD CONSTRAINT time_pkey PRIMARY KEY (start_time);
        UPDATE run_bounds SET time_key_to_build = false;
      END IF;
      UPDATE run_bounds SET time_written = true;
    EXCEPTION WHEN unique_violation THEN
      NULL;  -- undone: the insert below puts them in, one each
    END;
  END IF;
END
$$;

INSERT INTO time (start_time, hour, day, week, month, year, weekday)
SELECT DISTINCT ON (s.ts) timestamp 'epoch' + s.ts * interval '1 millisecond', s.hour, s.day, s.week, s.month,
       s.year, s.weekday
FROM staging_time s
WHERE NOT (SELECT time_written FROM run_bounds)
  AND s.run_id = {{run_id}}
  AND NOT EXISTS (SELECT 1 FROM time t
                  WHERE t.start_time = timestamp 'epoch' + s.ts * interval '1 millisecond'
                    AND t.start_time BETWEEN (SELECT first_time FROM run_bounds) AND (SELECT last_time FROM run_bounds))
ORDER BY s.ts;

-- The keys a first load dropped and has not built yet (where its rows went in one per key).
DO $$
BEGIN
  IF (SELECT songplays_key_to_build FROM run_bounds) THEN
    ALTER TABLE songplays ADD CONSTRAINT songplays_pkey PRIMARY KEY (songplay_id);
  END IF;
  IF (SELECT time_key_to_build FROM run_bounds) THEN
    ALTER TABLE time ADD CONSTRAINT time_pkey PRIMARY KEY (start_time);
  END IF;
END
$$;
