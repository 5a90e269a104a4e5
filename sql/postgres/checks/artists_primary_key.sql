-- check: artists.artist_id is unique and never NULL
-- PostgreSQL enforces the primary key; Redshift does not, and a table rebuilt without its
-- constraint would not either. One offending row per NULL or duplicated key. While the table has
-- its validated primary key constraint the scan is skipped: the constraint already guarantees it.
SELECT artist_id, count(*) AS row_count,
       CASE WHEN artist_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM artists
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conrelid = 'artists'::regclass AND c.contype = 'p' AND c.convalidated)
GROUP BY artist_id
HAVING artist_id IS NULL OR count(*) > 1
ORDER BY artist_id NULLS FIRST;
