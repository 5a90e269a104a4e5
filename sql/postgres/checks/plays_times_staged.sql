-- check: every play the run staged has its time among the times its file staged, from which the transform writes time
-- reads: staging and ledger
-- {{run_id}} is the run being checked; this runs before the run's staging rows are cleared, and
-- reads nothing the transform writes (the line above): on PostgreSQL it runs on a connection of
-- its own while the transform does, and its result decides the commit like the others'. A worker
-- stages each distinct play time of a file once, with its date parts (docs/STAGING_ROWS.md); the
-- time table is written from those rows alone, so a play whose time its file did not stage would
-- leave its songplay without its start time in time. songplays_of_the_run relies on this check
-- where it compares time with the staged times by their sums. One offending row per play, with
-- where it was staged from (looked up for offending rows only).
SELECT p.songplay_id, timestamp 'epoch' + p.ts * interval '1 millisecond' AS start_time,
       (SELECT f.uri FROM load_files f WHERE f.file_id = p.file_id) AS file, p.line
FROM staging_plays p
WHERE p.run_id = {{run_id}}
  AND NOT EXISTS (SELECT 1 FROM staging_time t WHERE t.run_id = {{run_id}} AND t.file_id = p.file_id AND t.ts = p.ts)
ORDER BY p.file_id, p.line;
