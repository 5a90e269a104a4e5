-- check: every file the run staged is fully accounted for: records read = staged + rejected, and the rows it staged (docs/STAGING_ROWS.md) are all there
-- {{run_id}} is the run being checked; this runs inside the transform transaction, before the
-- run's staging rows are cleared. The files are those of the run's accounts in staging_files,
-- which the transform has written to load_files (every file there is 'loaded' on Redshift, so
-- sql/common's test of state 'staged' would find none); a file missing from load_files offends
-- too. The rows a file staged are counted across the four staging tables and compared with its
-- account's staged_rows (load_files on Redshift keeps no such column: the account in
-- staging_files does). One offending row per file whose account does not balance. Without a
-- WITH clause (see check_sample.sql).
SELECT a.uri, f.records, f.staged, f.rejected, a.staged_rows,
       COALESCE(s.staged_rows, 0) AS staged_rows_found, COALESCE(r.reject_rows, 0) AS reject_rows_found
FROM staging_files a
LEFT JOIN load_files f ON f.uri = a.uri AND f.file_id = a.file_id AND f.run_id = a.run_id
LEFT JOIN (
  SELECT file_id, sum(n) AS staged_rows
  FROM (SELECT file_id, count(*) AS n FROM staging_plays WHERE run_id = {{run_id}} GROUP BY file_id
        UNION ALL
        SELECT file_id, count(*) FROM staging_users WHERE run_id = {{run_id}} GROUP BY file_id
        UNION ALL
        SELECT file_id, count(*) FROM staging_time WHERE run_id = {{run_id}} GROUP BY file_id
        UNION ALL
        SELECT file_id, count(*) FROM staging_songs WHERE run_id = {{run_id}} GROUP BY file_id) n
  GROUP BY file_id
) s ON s.file_id = a.file_id
LEFT JOIN (
  SELECT file_id, count(*) AS reject_rows FROM rejects WHERE run_id = {{run_id}} GROUP BY file_id
) r ON r.file_id = a.file_id
WHERE a.run_id = {{run_id}}
  AND (f.file_id IS NULL OR f.records <> f.staged + f.rejected
       OR a.staged_rows <> COALESCE(s.staged_rows, 0) OR f.rejected <> COALESCE(r.reject_rows, 0))
ORDER BY a.uri;
