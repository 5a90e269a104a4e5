-- check: the run's songplays match its staged NextSong events, one songplay per distinct songplay_id
-- {{run_id}} is the run being checked. This reads the run's staging rows, so it is meaningful
-- between the transform's inserts and the end of the transform, where those rows are deleted:
-- inside the transform's transaction, before it commits. Afterwards the run has no staging rows
-- left and the check passes with nothing to compare.
--
-- Several events may share a songplay_id (the same event in two files); the transform keeps one
-- songplay for them, so the expected count is that of distinct songplay_ids. One offending row
-- per staged NextSong event whose songplay is missing, with where the event came from and the
-- two counts.
-- The two counts are scalar subqueries in the select list, so they are computed only when there is
-- an offending row to show; a passing check costs one anti-join.
WITH staged AS NOT MATERIALIZED (
  SELECT p.songplay_id, p.file_id, p.line, p.ts
  FROM staging_plays p
  WHERE p.run_id = {{run_id}}
)
SELECT s.songplay_id, f.uri AS file, s.line, s.ts,
       (SELECT count(DISTINCT songplay_id) FROM staged) AS expected_songplays,
       (SELECT count(DISTINCT p.songplay_id) FROM staged x JOIN songplays p ON p.songplay_id = x.songplay_id)
         AS found_songplays
FROM staged s
LEFT JOIN load_files f ON f.file_id = s.file_id
WHERE s.songplay_id IS NULL
   OR NOT EXISTS (SELECT 1 FROM songplays p WHERE p.songplay_id = s.songplay_id)
ORDER BY s.songplay_id NULLS FIRST, f.uri, s.line;
