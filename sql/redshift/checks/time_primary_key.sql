-- check: time.start_time is unique and never NULL
-- Redshift declares the primary key but never enforces it, so the table is scanned. One offending
-- row per NULL or duplicated key.
SELECT start_time, count(*) AS row_count,
       CASE WHEN start_time IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM time
GROUP BY start_time
HAVING start_time IS NULL OR count(*) > 1
ORDER BY start_time NULLS FIRST;
