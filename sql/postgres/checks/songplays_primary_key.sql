-- check: songplays.songplay_id is unique and never NULL
-- PostgreSQL enforces the primary key; Redshift does not, and a table rebuilt without its
-- constraint would not either. One offending row per NULL or duplicated key. While the table has
-- its validated primary key constraint the scan is skipped: the constraint already guarantees it.
SELECT songplay_id, count(*) AS row_count,
       CASE WHEN songplay_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM songplays
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conrelid = 'songplays'::regclass AND c.contype = 'p' AND c.convalidated)
GROUP BY songplay_id
HAVING songplay_id IS NULL OR count(*) > 1
ORDER BY songplay_id NULLS FIRST;
