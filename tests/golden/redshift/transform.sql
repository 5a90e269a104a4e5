-- The set-based transforms from one run's staging rows into the star schema, in Amazon Redshift's
-- SQL. Runs in the transaction that COPYs the run's rows, file accounts and rejects into staging,
-- together with the data-quality checks and transform_finish.sql, so a failure anywhere leaves
-- the previous tables untouched. 42 is substituted as an integer.
--
-- The results are those of sql/postgres/transform.sql: the same rows, chosen by the same rules.
-- Redshift has neither INSERT ... ON CONFLICT nor DISTINCT ON, and does not enforce keys, so each
-- table is written by one MERGE from a temporary table that holds exactly one row per key: the
-- winner by ROW_NUMBER() under the postgres transform's ordering. (MERGE takes a table as its
-- source, and fails when two source rows match one target row.) Where PostgreSQL skips an update
-- whose values are unchanged, the MERGE writes the same values again: the rows are the same.
--
-- Conflicting duplicates are resolved the same way whatever the worker count, file order or
-- split into runs: the version that sorts first by its attributes wins (songs: title, artist_id,
-- year, duration; artists: name, location, latitude, longitude; NULLs last; song matches: the
-- lowest song_id, then artist_id), and for users the attributes of the latest event by ts (ties:
-- the higher session_id, then item_in_session, NULLs last; then the lowest first_name, last_name,
-- gender, level, NULLs last). Text sorts by its UTF-8 bytes, as in PostgreSQL under the C
-- collation.
--
-- The staging rows are those the workers shaped for the star (docs/STAGING_ROWS.md): plays with
-- their songplay_id and match key, each file's latest row per user, each file's distinct play
-- times with their parts, and song records with their match key.
--
-- Written for both engines where they differ:
--   - A play's start time is TIMESTAMP 'epoch' + CAST(ts AS DOUBLE PRECISION) * INTERVAL '0.001
--     second': the interval is PostgreSQL's '1 millisecond' exactly, and the product the one
--     PostgreSQL computes for ts * interval '1 millisecond', so the timestamps equal the postgres
--     transform's for every ts. Redshift documents a double times INTERVAL '1 second'
--     (r_Dateparts_for_datetime_functions, EPOCH) and fractional quantities (r_interval_literals).
--   - ROW_NUMBER()'s ORDER BY uses the default NULL placement (last ascending, first descending,
--     on both engines), and "DESC NULLS LAST" is spelled as a CASE that sorts NULLs after the
--     rest: Redshift's list of unsupported PostgreSQL features names the NULLS clause of window
--     functions (though its window function syntax shows one).
--   - Current time: TIMESTAMP 'now' (see run_create.sql).
--   - The match keys are the workers' (PostgreSQL's hashtextextended, which Redshift lacks), staged
--     as BIGINTs with the plays and the song records; the SQL only compares them.
-- One difference remains: Redshift compares VARCHARs ignoring trailing blanks, so keys that differ
-- only in them (a user_id "42" and "42 ") are one key there and two in PostgreSQL. Song matching
-- does not depend on it: plays are matched on the match key alone, whose hash tells "Song " from
-- "Song".

-- Temporary tables of an earlier run in this session, if it failed before dropping them.
DROP TABLE IF EXISTS merge_load_files, merge_songs, merge_artists, merge_users, merge_song_matches, merge_matches,
                     merge_songplays, merge_rematch;

-- The run's file accounts, to merge into the ledger: the coordinator writes one per file (a second
-- would fail the MERGE, or give load_files a duplicate that checks/load_files_primary_key reports).
CREATE TEMP TABLE merge_load_files AS
SELECT file_id, uri, kind, etag, size, run_id, records, staged, rejected
FROM staging_files
WHERE run_id = 42;

-- The ledger: the run's files are loaded, with the ids, ETags and accounts the coordinator gave
-- them (a file loaded before keeps its row and file_id), so that the checks can join load_files.
MERGE INTO load_files
USING merge_load_files f ON load_files.uri = f.uri
WHEN MATCHED THEN UPDATE SET file_id = f.file_id, kind = f.kind, etag = f.etag, size = f.size, run_id = f.run_id,
                             state = 'loaded', records = f.records, staged = f.staged, rejected = f.rejected,
                             updated_at = TIMESTAMP 'now'
WHEN NOT MATCHED THEN INSERT (file_id, uri, kind, etag, size, run_id, state, records, staged, rejected, updated_at)
  VALUES (f.file_id, f.uri, f.kind, f.etag, f.size, f.run_id, 'loaded', f.records, f.staged, f.rejected,
          TIMESTAMP 'now');

-- Rejects: the run's records that could not be loaded get the time they were rejected at.
UPDATE rejects SET rejected_at = TIMESTAMP 'now' WHERE run_id = 42 AND rejected_at IS NULL;

-- Songs: every version seen in this run plus the one already loaded; the first by attributes wins.
CREATE TEMP TABLE merge_songs AS
SELECT song_id, title, artist_id, year, duration
FROM (
  SELECT v.song_id, v.title, v.artist_id, v.year, v.duration,
         ROW_NUMBER() OVER (PARTITION BY v.song_id ORDER BY v.title, v.artist_id, v.year, v.duration) AS pick
  FROM (
    SELECT song_id, title, artist_id, NULLIF(year, 0) AS year, duration
    FROM staging_songs WHERE run_id = 42
    UNION ALL
    SELECT s.song_id, s.title, s.artist_id, s.year, s.duration
    FROM songs s WHERE s.song_id IN (SELECT song_id FROM staging_songs WHERE run_id = 42)
  ) v
) r
WHERE r.pick = 1;

-- Songs: the winners in.
MERGE INTO songs
USING merge_songs m ON songs.song_id = m.song_id
WHEN MATCHED THEN UPDATE SET title = m.title, artist_id = m.artist_id, year = m.year, duration = m.duration
WHEN NOT MATCHED THEN INSERT (song_id, title, artist_id, year, duration)
  VALUES (m.song_id, m.title, m.artist_id, m.year, m.duration);

-- Artists, from the song records: every version seen in this run plus the one already loaded.
CREATE TEMP TABLE merge_artists AS
SELECT artist_id, name, location, latitude, longitude
FROM (
  SELECT v.artist_id, v.name, v.location, v.latitude, v.longitude,
         ROW_NUMBER() OVER (PARTITION BY v.artist_id ORDER BY v.name, v.location, v.latitude, v.longitude) AS pick
  FROM (
    SELECT artist_id, artist_name AS name, artist_location AS location,
           artist_latitude AS latitude, artist_longitude AS longitude
    FROM staging_songs WHERE run_id = 42
    UNION ALL
    SELECT a.artist_id, a.name, a.location, a.latitude, a.longitude
    FROM artists a WHERE a.artist_id IN (SELECT artist_id FROM staging_songs WHERE run_id = 42)
  ) v
) r
WHERE r.pick = 1;

-- Artists: the winners in.
MERGE INTO artists
USING merge_artists m ON artists.artist_id = m.artist_id
WHEN MATCHED THEN UPDATE SET name = m.name, location = m.location, latitude = m.latitude, longitude = m.longitude
WHEN NOT MATCHED THEN INSERT (artist_id, name, location, latitude, longitude)
  VALUES (m.artist_id, m.name, m.location, m.latitude, m.longitude);

-- Users: attributes of each user's latest event in this run (the workers staged each file's latest
-- per user; the same order picks among them); a user already loaded keeps theirs if their stored
-- as_of is later than that event (or unknown), so such a user is left out here.
CREATE TEMP TABLE merge_users AS
SELECT r.user_id, r.first_name, r.last_name, r.gender, r.level, r.as_of
FROM (
  SELECT user_id, first_name, last_name, gender, level,
         TIMESTAMP 'epoch' + CAST(ts AS DOUBLE PRECISION) * INTERVAL '0.001 second' AS as_of,
         ROW_NUMBER() OVER (PARTITION BY user_id
                            ORDER BY ts DESC,
                                     CASE WHEN session_id IS NULL THEN 1 ELSE 0 END, session_id DESC,
                                     CASE WHEN item_in_session IS NULL THEN 1 ELSE 0 END, item_in_session DESC,
                                     first_name, last_name, gender, level) AS pick
  FROM staging_users
  WHERE run_id = 42
) r
WHERE r.pick = 1
  AND NOT EXISTS (SELECT 1 FROM users u
                  WHERE u.user_id = r.user_id AND (u.as_of IS NULL OR u.as_of > r.as_of));

-- Users: the latest attributes in.
MERGE INTO users
USING merge_users m ON users.user_id = m.user_id
WHEN MATCHED THEN UPDATE SET first_name = m.first_name, last_name = m.last_name, gender = m.gender,
                             level = m.level, as_of = m.as_of
WHEN NOT MATCHED THEN INSERT (user_id, first_name, last_name, gender, level, as_of)
  VALUES (m.user_id, m.first_name, m.last_name, m.gender, m.level, m.as_of);

-- Song matches, from this run's song records: per (title, artist_name, duration), the lowest
-- (song_id, artist_id) among this run's records and the row already there, so the table ends as
-- a single load of every record would leave it. The match key is the one the workers staged with
-- each song record, the same key they staged with each play.
CREATE TEMP TABLE merge_song_matches AS
SELECT match_key, title, artist_name, duration, song_id, artist_id
FROM (
  SELECT v.match_key, v.title, v.artist_name, v.duration, v.song_id, v.artist_id,
         ROW_NUMBER() OVER (PARTITION BY v.match_key, v.title, v.artist_name, v.duration
                            ORDER BY v.song_id, v.artist_id) AS pick
  FROM (
    SELECT match_key, title, artist_name, duration, song_id, artist_id
    FROM staging_songs
    WHERE run_id = 42 AND title IS NOT NULL AND artist_name IS NOT NULL AND duration IS NOT NULL
    UNION ALL
    SELECT m.match_key, m.title, m.artist_name, m.duration, m.song_id, m.artist_id
    FROM song_matches m
    WHERE m.match_key IN (SELECT match_key
                          FROM staging_songs
                          WHERE run_id = 42 AND title IS NOT NULL AND artist_name IS NOT NULL
                            AND duration IS NOT NULL)
  ) v
) r
WHERE r.pick = 1;

-- Song matches: the winners in.
MERGE INTO song_matches
USING merge_song_matches c
  ON song_matches.match_key = c.match_key AND song_matches.title = c.title
 AND song_matches.artist_name = c.artist_name AND song_matches.duration = c.duration
WHEN MATCHED THEN UPDATE SET song_id = c.song_id, artist_id = c.artist_id
WHEN NOT MATCHED THEN INSERT (match_key, title, artist_name, duration, song_id, artist_id)
  VALUES (c.match_key, c.title, c.artist_name, c.duration, c.song_id, c.artist_id);

-- Fresh statistics for the song matches just merged and the plays just COPYed (COPY runs with
-- STATUPDATE OFF), so that plays are joined to matches by hash rather than one scan of the
-- matches per play.
ANALYZE song_matches;
ANALYZE staging_plays (run_id, songplay_id, match_key);

-- The song each match key names: the lowest song_id, then artist_id, among the song matches with
-- that key (several (title, artist_name, duration) may share one). One row per key.
CREATE TEMP TABLE merge_matches AS
SELECT match_key, song_id, artist_id
FROM (
  SELECT m.match_key, m.song_id, m.artist_id,
         ROW_NUMBER() OVER (PARTITION BY m.match_key ORDER BY m.song_id, m.artist_id) AS pick
  FROM song_matches m
) r
WHERE r.pick = 1;

-- Songplays: one per NextSong event, matched by its match key (the hash of its song, artist and
-- length) to the song records with the same title, artist_name and duration (merge_matches: where
-- several keys collide or several records match, the lowest song_id). A play that matches nothing
-- keeps its key in unmatched_key for later catalogue loads. Where several events share a
-- songplay_id, the first by all their columns is kept.
CREATE TEMP TABLE merge_songplays AS
SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent, unmatched_key
FROM (
  SELECT v.*,
         ROW_NUMBER() OVER (PARTITION BY v.songplay_id
                            ORDER BY v.start_time, v.user_id, v.level, v.song_id, v.artist_id, v.session_id,
                                     v.location, v.user_agent) AS pick
  FROM (
    SELECT p.songplay_id,
           TIMESTAMP 'epoch' + CAST(p.ts AS DOUBLE PRECISION) * INTERVAL '0.001 second' AS start_time,
           p.user_id, p.level, m.song_id, m.artist_id, p.session_id, p.location, p.user_agent,
           CASE WHEN m.song_id IS NULL THEN p.match_key END AS unmatched_key
    FROM staging_plays p
    LEFT JOIN merge_matches m ON m.match_key = p.match_key
    WHERE p.run_id = 42
  ) v
) r
WHERE r.pick = 1;

-- Songplays: this run's version of each play in.
MERGE INTO songplays
USING merge_songplays s ON songplays.songplay_id = s.songplay_id
WHEN MATCHED THEN UPDATE SET start_time = s.start_time, user_id = s.user_id, level = s.level, song_id = s.song_id,
                             artist_id = s.artist_id, session_id = s.session_id, location = s.location,
                             user_agent = s.user_agent, unmatched_key = s.unmatched_key
WHEN NOT MATCHED THEN INSERT (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
                              user_agent, unmatched_key)
  VALUES (s.songplay_id, s.start_time, s.user_id, s.level, s.song_id, s.artist_id, s.session_id, s.location,
          s.user_agent, s.unmatched_key);

-- Earlier runs' unmatched plays: the song each match key of this run's song records now
-- names (merge_matches: the lowest song_id, then artist_id, should two keys collide). The keys
-- are those merge_song_matches holds: this run's records'.
CREATE TEMP TABLE merge_rematch AS
SELECT m.match_key, m.song_id, m.artist_id
FROM merge_matches m
WHERE m.match_key IN (SELECT match_key FROM merge_song_matches);

-- Plays loaded by earlier runs before their song: matched now, by the same rule (the record's own
-- artist_name; the lowest matching song_id), so the tables equal a single load of everything.
UPDATE songplays
SET song_id = c.song_id, artist_id = c.artist_id, unmatched_key = NULL
FROM merge_rematch c
WHERE songplays.unmatched_key = c.match_key AND songplays.song_id IS NULL;

-- Time: one row per distinct songplay start time (the same expression the songplays take their
-- start_time from), with the parts the workers computed (PostgreSQL's date_part: ISO week,
-- 0 = Sunday), for the times not there yet. Files that share a play time stage the same row for
-- it: DISTINCT keeps one.
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
SELECT t.start_time, t.hour, t.day, t.week, t.month, t.year, t.weekday
FROM (
  SELECT DISTINCT TIMESTAMP 'epoch' + CAST(ts AS DOUBLE PRECISION) * INTERVAL '0.001 second' AS start_time,
         hour, day, week, month, year, weekday
  FROM staging_time
  WHERE run_id = 42
) t
WHERE NOT EXISTS (SELECT 1 FROM time x WHERE x.start_time = t.start_time);

-- The temporary tables are no longer needed.
DROP TABLE merge_load_files, merge_songs, merge_artists, merge_users, merge_song_matches, merge_matches,
           merge_songplays, merge_rematch;
