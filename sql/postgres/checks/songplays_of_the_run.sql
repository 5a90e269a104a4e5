-- check: every play the run staged has its songplay, and each of the run's songplays names a user in users, a start_time in time, and, where matched, a song in songs and an artist in artists
-- {{run_id}} is the run being checked. This reads the run's staging rows, so it is meaningful
-- inside the transform's transaction, after the star tables are written and before the run's
-- staging rows are cleared; afterwards the run has no staging rows and it passes with nothing to
-- compare.
--
-- The run's own songplays are the ones its staged plays name; every rule about them is answered
-- by hash joins, with no DISTINCT over the plays (a hash aggregate of a million keys costs more
-- than the joins). Several plays may share a songplay_id (the transform keeps one); an offending songplay_id is reported
-- once. A songplay written by an earlier run was checked by that run, and the star tables are
-- written by loadstar alone; the one change a run makes to earlier runs' songplays (matching an
-- unmatched play to a song this run loaded) sets ids taken from song_matches, whose songs and
-- artists the same transaction loaded.
--
-- The worker rejects a NextSong event without a userId ("a play without a user"), so a NULL
-- user_id is an offence too: it cannot come from the input. One offending row per songplay_id,
-- with the first rule it breaks and where it was staged from (looked up for offending rows only).
--
-- How it reads songplays and time depends on how much of them the run is. A run that is a good
-- part of the table (a first load) finds the songplays that break a rule over the whole table and
-- keeps those the run staged, and the staged plays with no songplay by one anti-join. A small run (the next day into a loaded
-- history) reads only the range of songplay_ids and start times its plays span (session ids grow
-- with time), so that it costs in proportion to the run; the planner cannot tell the range's
-- size in advance, so the choice is made here, on the size of the staged plays against that of
-- songplays (their rows are alike; sizes are current where statistics may not be yet, right after
-- a big load). Only one of the two selects runs.
WITH run_range AS MATERIALIZED (
  SELECT min(songplay_id) AS first_id, max(songplay_id) AS last_id,
         timestamp 'epoch' + min(ts) * interval '1 millisecond' AS first_time,
         timestamp 'epoch' + max(ts) * interval '1 millisecond' AS last_time
  FROM staging_plays
  WHERE run_id = {{run_id}}
),
small_run AS MATERIALIZED (
  SELECT pg_relation_size('staging_plays') * 10 < pg_relation_size('songplays') AS yes
),
-- A big run into songplays that hold nothing else (a first load): where the run's plays and
-- songplays have as many rows, the same least and greatest id, and the same sum of a 64-bit hash
-- of each one's id and start time, they hold the same ids with the same start times (songplay_id
-- is unique), and no staged play lacks its songplay; two different sets pass that with odds of
-- about 2^-64. Sums over the tables cost a fraction of joining them. (hashint8extended folds a
-- bigint to 32 bits before hashing it; the hash of the high half, xor'd in, makes the hash of the
-- whole.) Where they differ (an earlier run's songplays, plays sharing an id, a lost songplay or a
-- changed start time), the plays are joined to songplays, and what is missing is found.
same_plays AS MATERIALIZED (
  SELECT (SELECT (count(*), min(songplay_id), max(songplay_id),
                  sum(hashint8extended(songplay_id, 0) # hashint8extended(songplay_id >> 32, 1)
                      # timestamp_hash_extended(timestamp 'epoch' + ts * interval '1 millisecond', 2)))
          FROM staging_plays
          WHERE run_id = {{run_id}})
       = (SELECT (count(*), min(songplay_id), max(songplay_id),
                  sum(hashint8extended(songplay_id, 0) # hashint8extended(songplay_id >> 32, 1)
                      # timestamp_hash_extended(start_time, 2)))
          FROM songplays) AS yes
  WHERE NOT (SELECT yes FROM small_run)
),
-- And where time holds exactly the times the run staged (as many, with the same sum of hashes),
-- every songplay's start time is in time without joining them: it is its play's time, which the
-- check plays_times_staged finds among its file's staged times, which are time's rows.
same_times AS MATERIALIZED (
  SELECT (SELECT (count(*), sum(timestamp_hash_extended(timestamp 'epoch' + ts * interval '1 millisecond', 2)))
          FROM staging_time
          WHERE run_id = {{run_id}})
       = (SELECT (count(*), sum(timestamp_hash_extended(start_time, 2))) FROM time) AS yes
  WHERE (SELECT yes FROM same_plays) IS TRUE
),
times_known AS MATERIALIZED (
  SELECT (SELECT yes FROM same_times) IS TRUE AS yes
),
-- A big run: the songplays that break a rule are found over the whole table first (as cheap as
-- over the run's part of it, and no row goes through a join with the plays unless it breaks a
-- rule), then kept where the run staged them. Where the start times are known to be in time
-- (above), time is not joined.
broken AS MATERIALIZED (
  SELECT p.songplay_id, p.user_id, p.start_time, p.song_id, p.artist_id,
         CASE WHEN u.user_id IS NULL THEN 'its user is not in users'
              WHEN t.start_time IS NULL THEN 'its start_time is not in time'
              WHEN p.song_id IS NOT NULL AND s.song_id IS NULL THEN 'its song is not in songs'
              ELSE 'its artist is not in artists' END AS problem
  FROM songplays p
  LEFT JOIN users u ON u.user_id = p.user_id
  LEFT JOIN time t ON t.start_time = p.start_time
  LEFT JOIN songs s ON s.song_id = p.song_id
  LEFT JOIN artists a ON a.artist_id = p.artist_id
  WHERE NOT (SELECT yes FROM times_known)
    AND (u.user_id IS NULL
         OR t.start_time IS NULL
         OR (p.song_id IS NOT NULL AND s.song_id IS NULL)
         OR (p.artist_id IS NOT NULL AND a.artist_id IS NULL))
  UNION ALL
  SELECT p.songplay_id, p.user_id, p.start_time, p.song_id, p.artist_id,
         CASE WHEN u.user_id IS NULL THEN 'its user is not in users'
              WHEN p.song_id IS NOT NULL AND s.song_id IS NULL THEN 'its song is not in songs'
              ELSE 'its artist is not in artists' END AS problem
  FROM songplays p
  LEFT JOIN users u ON u.user_id = p.user_id
  LEFT JOIN songs s ON s.song_id = p.song_id
  LEFT JOIN artists a ON a.artist_id = p.artist_id
  WHERE (SELECT yes FROM times_known)
    AND (u.user_id IS NULL
         OR (p.song_id IS NOT NULL AND s.song_id IS NULL)
         OR (p.artist_id IS NOT NULL AND a.artist_id IS NULL))
)
SELECT whole.* FROM (
  SELECT DISTINCT ON (x.songplay_id) x.songplay_id, x.user_id, x.start_time, x.song_id, x.artist_id, x.problem,
         (SELECT f.uri FROM load_files f WHERE f.file_id = x.file_id) AS file, x.line
  FROM (
    SELECT x.songplay_id, NULL::text AS user_id, NULL::timestamp AS start_time, NULL::text AS song_id,
           NULL::text AS artist_id, 'a staged play has no songplay' AS problem, x.file_id, x.line
    FROM staging_plays x
    WHERE x.run_id = {{run_id}}
      AND (SELECT yes FROM same_plays) IS NOT TRUE
      AND NOT EXISTS (SELECT 1 FROM songplays p WHERE p.songplay_id = x.songplay_id)
    UNION ALL
    SELECT x.songplay_id, b.user_id, b.start_time, b.song_id, b.artist_id, b.problem, x.file_id, x.line
    FROM staging_plays x
    JOIN broken b ON b.songplay_id = x.songplay_id
    WHERE x.run_id = {{run_id}}
  ) x
  ORDER BY x.songplay_id, x.file_id, x.line
) whole
WHERE NOT (SELECT yes FROM small_run)
UNION ALL
SELECT ranged.* FROM (
SELECT DISTINCT ON (x.songplay_id) x.songplay_id, p.user_id, p.start_time, p.song_id, p.artist_id,
       CASE WHEN p.songplay_id IS NULL THEN 'a staged play has no songplay'
            WHEN u.user_id IS NULL THEN 'its user is not in users'
            WHEN t.start_time IS NULL THEN 'its start_time is not in time'
            WHEN p.song_id IS NOT NULL AND s.song_id IS NULL THEN 'its song is not in songs'
            ELSE 'its artist is not in artists' END AS problem,
       (SELECT f.uri FROM load_files f WHERE f.file_id = x.file_id) AS file, x.line
FROM staging_plays x
LEFT JOIN songplays p
  ON p.songplay_id = x.songplay_id
 AND p.songplay_id BETWEEN (SELECT first_id FROM run_range) AND (SELECT last_id FROM run_range)
LEFT JOIN users u ON u.user_id = p.user_id
LEFT JOIN time t
  ON t.start_time = p.start_time
 AND t.start_time BETWEEN (SELECT first_time FROM run_range) AND (SELECT last_time FROM run_range)
LEFT JOIN songs s ON s.song_id = p.song_id
LEFT JOIN artists a ON a.artist_id = p.artist_id
WHERE x.run_id = {{run_id}}
  AND (p.songplay_id IS NULL
       OR u.user_id IS NULL
       OR t.start_time IS NULL
       OR (p.song_id IS NOT NULL AND s.song_id IS NULL)
       OR (p.artist_id IS NOT NULL AND a.artist_id IS NULL))
ORDER BY x.songplay_id, x.file_id, x.line
) ranged
WHERE (SELECT yes FROM small_run)
