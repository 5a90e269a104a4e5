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
-- the planner sizes its hash joins and sorts for them.
ANALYZE staging_events (run_id, file_id, page, user_id, song, artist, length);
ANALYZE staging_songs (run_id, file_id, song_id, artist_id, title, artist_name, duration);
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

-- Song matches, from this run's song records: a (title, artist_name, duration) new to
-- song_matches goes in; one already there takes this run's song where that has a lower song_id
-- (then artist_id), so the table ends as a single load of every record would leave it.
WITH candidates AS (
  SELECT DISTINCT ON (match_key, title, artist_name, duration)
         match_key, title, artist_name, duration, song_id, artist_id
  FROM (
    SELECT song_match_key(title, artist_name, duration) AS match_key, title, artist_name, duration, song_id, artist_id
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

-- Songplays: one per NextSong event, matched to the song record whose own title, artist_name and
-- duration equal the play's song, artist and length (song_matches: where several records match,
-- the lowest song_id). A play that matches nothing keeps song_match_key(song, artist, length) in
-- unmatched_key for later catalogue loads. Where several events share a songplay_id, the first
-- by all their columns is kept.
INSERT INTO songplays AS t (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
                            user_agent, unmatched_key)
SELECT DISTINCT ON (songplay_id) *
FROM (
  SELECT e.session_id * 16777216 + e.item_in_session AS songplay_id,
         timestamp 'epoch' + e.ts * interval '1 millisecond' AS start_time,
         NULLIF(e.user_id, '') AS user_id, e.level, m.song_id, m.artist_id, e.session_id, e.location, e.user_agent,
         CASE WHEN m.song_id IS NULL THEN song_match_key(e.song, e.artist, e.length) END AS unmatched_key
  FROM staging_events e
  LEFT JOIN song_matches m ON m.title = e.song AND m.artist_name = e.artist AND m.duration = e.length
  WHERE e.run_id = {{run_id}} AND e.page = 'NextSong'
) v
ORDER BY songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent
ON CONFLICT (songplay_id) DO UPDATE
SET start_time = excluded.start_time, user_id = excluded.user_id, level = excluded.level,
    song_id = excluded.song_id, artist_id = excluded.artist_id, session_id = excluded.session_id,
    location = excluded.location, user_agent = excluded.user_agent, unmatched_key = excluded.unmatched_key
WHERE (t.start_time, t.user_id, t.level, t.song_id, t.artist_id, t.session_id, t.location, t.user_agent,
       t.unmatched_key)
      IS DISTINCT FROM (excluded.start_time, excluded.user_id, excluded.level, excluded.song_id,
                        excluded.artist_id, excluded.session_id, excluded.location, excluded.user_agent,
                        excluded.unmatched_key);

-- Plays loaded by earlier runs before their song: match them against the song records this run
-- loaded, by the same rule (the record's own artist_name; the lowest matching song_id), so the
-- tables equal a single load of everything. Only a hash of their key is kept, hence DISTINCT ON.
UPDATE songplays p
SET song_id = c.song_id, artist_id = c.artist_id, unmatched_key = NULL
FROM (
  SELECT DISTINCT ON (m.match_key) m.match_key, m.song_id, m.artist_id
  FROM song_matches m
  WHERE m.match_key IN (SELECT song_match_key(title, artist_name, duration) FROM staging_songs
                        WHERE run_id = {{run_id}})
  ORDER BY m.match_key, m.song_id, m.artist_id
) c
WHERE p.unmatched_key = c.match_key AND p.song_id IS NULL;

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
