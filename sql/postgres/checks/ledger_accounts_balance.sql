-- check: every file the run staged is fully accounted for: records read = staged + rejected, and the rows it staged (docs/STAGING_ROWS.md) are all there
-- reads: staging and ledger
-- {{run_id}} is the run being checked; this runs before the run's staging rows are cleared, and
-- reads nothing the transform writes (the line above): on PostgreSQL, where workers commit the
-- staging rows before the transform begins, it runs on a connection of its own while the
-- transform does, and its result decides the commit like the others'. One offending row per file
-- whose account does not balance.
--
-- Whether each file's staged rows are there is first asked of two sums, each one pass over the
-- staging tables without grouping them: the rows, and a 64-bit hash of their file_id summed over
-- them, against the ledger's counts and each count times that hash. They are equal where every
-- file has its count (other counts pass with odds of about 2^-64), and then the rows are not
-- counted file by file; where they differ, they are, and the files that are short are named.
-- (hashint8extended folds a bigint to 32 bits before hashing it; the hash of the high half, xor'd
-- in, makes the hash of the whole.)
WITH staged_rows AS NOT MATERIALIZED (
  SELECT file_id FROM staging_plays WHERE run_id = {{run_id}}
  UNION ALL
  SELECT file_id FROM staging_users WHERE run_id = {{run_id}}
  UNION ALL
  SELECT file_id FROM staging_time WHERE run_id = {{run_id}}
  UNION ALL
  SELECT file_id FROM staging_songs WHERE run_id = {{run_id}}
),
balanced AS MATERIALIZED (
  SELECT (SELECT (count(*), COALESCE(sum(hashint8extended(file_id, 0) # hashint8extended(file_id >> 32, 1)), 0))
          FROM staged_rows)
       = (SELECT (COALESCE(sum(staged_rows), 0)::bigint,
                  COALESCE(sum(staged_rows * (hashint8extended(file_id, 0) # hashint8extended(file_id >> 32, 1))::numeric), 0))
          FROM load_files
          WHERE run_id = {{run_id}} AND state = 'staged')
     AND (SELECT bool_and(staged_rows IS NOT NULL) IS NOT FALSE
          FROM load_files
          WHERE run_id = {{run_id}} AND state = 'staged') AS yes
),
staged AS (
  SELECT file_id, count(*) AS rows
  FROM staged_rows
  WHERE NOT (SELECT yes FROM balanced)
  GROUP BY file_id
),
rejected AS (
  SELECT file_id, count(*) AS rows FROM rejects WHERE run_id = {{run_id}} GROUP BY file_id
)
SELECT f.uri, f.records, f.staged, f.rejected, f.staged_rows,
       CASE WHEN (SELECT yes FROM balanced) THEN f.staged_rows ELSE COALESCE(s.rows, 0) END AS staged_rows_found,
       COALESCE(r.rows, 0) AS reject_rows_found
FROM load_files f
LEFT JOIN staged s ON s.file_id = f.file_id
LEFT JOIN rejected r ON r.file_id = f.file_id
WHERE f.run_id = {{run_id}} AND f.state = 'staged'
  AND (f.records <> f.staged + f.rejected
       OR (NOT (SELECT yes FROM balanced) AND f.staged_rows IS DISTINCT FROM COALESCE(s.rows, 0))
       OR f.rejected <> COALESCE(r.rows, 0))
ORDER BY f.uri;
