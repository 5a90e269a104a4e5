-- The latest runs, newest first, with the ledger's account of what each staged. $1 = how many.
-- The ledger keeps each file's latest staging, so a file staged again by a later run counts for
-- that run only. duration_s of a run still going is the time so far. Times are UTC.
SELECT r.run_id, r.state,
       to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started,
       to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished,
       round(extract(epoch FROM COALESCE(r.finished_at, now()) - r.started_at)::numeric, 1) AS duration_s,
       r.files_listed, r.files_skipped,
       COALESCE(l.records, 0) AS records, COALESCE(l.staged, 0) AS staged,
       COALESCE(l.rejected, 0) AS rejected,
       r.error
FROM runs r
LEFT JOIN (
  SELECT run_id, sum(records) AS records, sum(staged) AS staged, sum(rejected) AS rejected
  FROM load_files
  WHERE state IN ('staged', 'loaded')
  GROUP BY run_id
) l ON l.run_id = r.run_id
ORDER BY r.run_id DESC
LIMIT $1;
