-- check: every file the run staged is fully accounted for: records read = staged + rejected, and the rows it staged (docs/STAGING_ROWS.md) are all there
-- {{run_id}} is the run being checked; this runs inside the transform transaction, before the
-- run's staging rows are cleared. One offending row per file whose account does not balance.
WITH staged AS (
  SELECT file_id, sum(n) AS rows
  FROM (SELECT file_id, count(*) AS n FROM staging_plays WHERE run_id = {{run_id}} GROUP BY file_id
        UNION ALL
        SELECT file_id, count(*) FROM staging_users WHERE run_id = {{run_id}} GROUP BY file_id
        UNION ALL
        SELECT file_id, count(*) FROM staging_time WHERE run_id = {{run_id}} GROUP BY file_id
        UNION ALL
        SELECT file_id, count(*) FROM staging_songs WHERE run_id = {{run_id}} GROUP BY file_id) n
  GROUP BY file_id
),
rejected AS (
  SELECT file_id, count(*) AS rows FROM rejects WHERE run_id = {{run_id}} GROUP BY file_id
)
SELECT f.uri, f.records, f.staged, f.rejected, f.staged_rows,
       COALESCE(s.rows, 0) AS staged_rows_found, COALESCE(r.rows, 0) AS reject_rows_found
FROM load_files f
LEFT JOIN staged s ON s.file_id = f.file_id
LEFT JOIN rejected r ON r.file_id = f.file_id
WHERE f.run_id = {{run_id}} AND f.state = 'staged'
  AND (f.records <> f.staged + f.rejected OR f.staged_rows IS DISTINCT FROM COALESCE(s.rows, 0) OR f.rejected <> COALESCE(r.rows, 0))
ORDER BY f.uri;
