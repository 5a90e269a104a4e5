-- check: time.start_time is unique and never NULL
-- PostgreSQL enforces the primary key; Redshift does not, and a table rebuilt without its
-- constraint would not either. One offending row per NULL or duplicated key. While the table has
-- its validated primary key constraint the scan is skipped: the constraint already guarantees it.
SELECT start_time, count(*) AS row_count,
       CASE WHEN start_time IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM time
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conrelid = 'time'::regclass AND c.contype = 'p' AND c.convalidated)
GROUP BY start_time
HAVING start_time IS NULL OR count(*) > 1
ORDER BY start_time NULLS FIRST;
