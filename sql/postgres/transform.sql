-- The set-based transforms from one run's staging rows into the star schema. Runs in one
-- transaction together with marking the run done, so a failure anywhere leaves the previous
-- tables untouched. {{run_id}} is substituted as an integer.
--
-- Rerunning the same input changes nothing: every table is upserted on its natural key, and an
-- existing row is only rewritten when its values differ.
--
-- Conflicting duplicates are resolved the same way whatever the worker count, file order or
-- split into runs: the version that sorts first by its attributes wins (songs: title, artist_id,
-- year, duration; artists: name, location, latitude, longitude; NULLs last), and for users the
-- attributes of the latest event by ts (ties: the higher session_id, then item_in_session).

-- Sorts and hashes of a million-row run fit in memory; the setting ends with the transaction.
SET LOCAL work_mem = '256MB';

-- Fresh statistics for the rows just staged (the columns the transforms join and filter on), so
-- the planner sizes its hash joins and sorts for them.
ANALYZE staging_events (run_id, file_id, page, user_id, song, artist, length);
ANALYZE staging_songs (run_id, file_id, song_id, artist_id);
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

-- Users: attributes of each user's latest event in this run; a user already loaded keeps theirs
-- if their latest event overall is older than that.
INSERT INTO users AS t (user_id, first_name, last_name, gender, level, as_of)
SELECT DISTINCT ON (user_id) user_id, first_name, last_name, gender, level,
       timestamp 'epoch' + ts * interval '1 millisecond'
FROM staging_events
WHERE run_id = {{run_id}} AND user_id <> ''
ORDER BY user_id, ts DESC, session_id DESC NULLS LAST, item_in_session DESC NULLS LAST
ON CONFLICT (user_id) DO UPDATE
SET first_name = excluded.first_name, last_name = excluded.last_name, gender = excluded.gender,
    level = excluded.level, as_of = excluded.as_of
WHERE excluded.as_of >= t.as_of
  AND (t.first_name, t.last_name, t.gender, t.level, t.as_of)
      IS DISTINCT FROM (excluded.first_name, excluded.last_name, excluded.gender, excluded.level, excluded.as_of);

-- Songplays: one per NextSong event, matched to a catalogue song on title, artist name and
-- duration. Where several catalogue songs match, the lowest song_id is taken. A play that matches
-- nothing keeps a hash of its (song, artist, length) in unmatched_key for later catalogue loads.
INSERT INTO songplays AS t (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
                            user_agent, unmatched_key)
SELECT DISTINCT ON (songplay_id) *
FROM (
  SELECT e.session_id * 16777216 + e.item_in_session AS songplay_id,
         timestamp 'epoch' + e.ts * interval '1 millisecond' AS start_time,
         NULLIF(e.user_id, '') AS user_id, e.level, c.song_id, c.artist_id, e.session_id, e.location, e.user_agent,
         CASE WHEN c.song_id IS NULL THEN hashtextextended(e.song || chr(31) || e.artist || chr(31) || e.length::text, 0)
         END AS unmatched_key
  FROM staging_events e
  LEFT JOIN (
    SELECT DISTINCT ON (s.title, a.name, s.duration) s.title, a.name, s.duration, s.song_id, s.artist_id
    FROM songs s JOIN artists a ON a.artist_id = s.artist_id
    ORDER BY s.title, a.name, s.duration, s.song_id
  ) c ON c.title = e.song AND c.name = e.artist AND c.duration = e.length
  WHERE e.run_id = {{run_id}} AND e.page = 'NextSong'
) v
ORDER BY songplay_id, start_time, user_id
ON CONFLICT (songplay_id) DO UPDATE
SET start_time = excluded.start_time, user_id = excluded.user_id, level = excluded.level,
    song_id = excluded.song_id, artist_id = excluded.artist_id, session_id = excluded.session_id,
    location = excluded.location, user_agent = excluded.user_agent, unmatched_key = excluded.unmatched_key
WHERE (t.start_time, t.user_id, t.level, t.song_id, t.artist_id, t.session_id, t.location, t.user_agent,
       t.unmatched_key)
      IS DISTINCT FROM (excluded.start_time, excluded.user_id, excluded.level, excluded.song_id,
                        excluded.artist_id, excluded.session_id, excluded.location, excluded.user_agent,
                        excluded.unmatched_key);

-- Plays loaded by earlier runs before their song: match them against the songs this run loaded,
-- by the same rule (the lowest matching song_id), so the tables equal a single load of everything.
UPDATE songplays p
SET song_id = c.song_id, artist_id = c.artist_id, unmatched_key = NULL
FROM (
  SELECT DISTINCT ON (k) k, song_id, artist_id
  FROM (
    SELECT hashtextextended(s.title || chr(31) || a.name || chr(31) || s.duration::text, 0) AS k, s.song_id, s.artist_id
    FROM songs s JOIN artists a ON a.artist_id = s.artist_id
    WHERE s.song_id IN (SELECT song_id FROM staging_songs WHERE run_id = {{run_id}})
  ) new_songs
  ORDER BY k, song_id
) c
WHERE p.unmatched_key = c.k AND p.song_id IS NULL;

-- Time: one row per distinct songplay start time, straight from the run's NextSong events (the
-- same expression the songplays take their start_time from). date_part, not extract: extract
-- returns numeric, several times slower to compute and cast.
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
SELECT start_time,
       date_part('hour', start_time)::int, date_part('day', start_time)::int,
       date_part('week', start_time)::int, date_part('month', start_time)::int,
       date_part('year', start_time)::int, date_part('dow', start_time)::int
FROM (
  SELECT DISTINCT timestamp 'epoch' + ts * interval '1 millisecond' AS start_time
  FROM staging_events
  WHERE run_id = {{run_id}} AND page = 'NextSong'
) t
ON CONFLICT (start_time) DO NOTHING;
