-- check: the run's songplays match its staged NextSong events, one songplay per distinct songplay_id
-- {{run_id}} is the run being checked. This reads the run's staging rows, so it is meaningful
-- between the transform's inserts and the end of the transform, where those rows are deleted:
-- inside the transform's transaction, before it commits. Afterwards the run has no staging rows
-- left and the check passes with nothing to compare.
--
-- Several events may share a songplay_id (the same event in two files); the transform keeps one
-- songplay for them, so the expected count is that of distinct songplay_ids. One offending row
-- per staged NextSong event whose songplay is missing, with where the event came from and the
-- two counts. Without a WITH clause (see check_sample.sql), so the staged plays are spelled out
-- three times: the rows, and the two counts, which are scalar subqueries computed once each.
SELECT s.songplay_id, f.uri AS file, s.line, s.ts,
       (SELECT count(DISTINCT e.songplay_id)
        FROM staging_plays e
        WHERE e.run_id = {{run_id}}) AS expected_songplays,
       (SELECT count(DISTINCT p.songplay_id)
        FROM staging_plays e
        JOIN songplays p ON p.songplay_id = e.songplay_id
        WHERE e.run_id = {{run_id}}) AS found_songplays
FROM (
  SELECT e.songplay_id, e.file_id, e.line, e.ts
  FROM staging_plays e
  WHERE e.run_id = {{run_id}}
) s
LEFT JOIN load_files f ON f.file_id = s.file_id
WHERE s.songplay_id IS NULL
   OR NOT EXISTS (SELECT 1 FROM songplays p WHERE p.songplay_id = s.songplay_id)
ORDER BY s.songplay_id NULLS FIRST, f.uri, s.line;
