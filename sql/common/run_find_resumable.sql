-- The latest unfinished run over the same sources, if any. $1 = sources.
SELECT run_id, state FROM runs
WHERE sources = $1 AND state IN ('staging', 'transforming', 'failed')
  AND run_id > COALESCE((SELECT max(run_id) FROM runs WHERE sources = $1 AND state = 'done'), 0)
ORDER BY run_id DESC
LIMIT 1;
