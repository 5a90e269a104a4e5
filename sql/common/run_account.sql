-- The account of one run, per kind of source. $1 = run_id.
SELECT kind, count(*) AS files, COALESCE(sum(size), 0) AS bytes, COALESCE(sum(records), 0) AS records,
       COALESCE(sum(staged), 0) AS staged, COALESCE(sum(rejected), 0) AS rejected
FROM load_files
WHERE run_id = $1 AND state IN ('staged', 'loaded')
GROUP BY kind
ORDER BY kind;
