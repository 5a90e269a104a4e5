-- check: artists.artist_id is unique and never NULL
-- Redshift declares the primary key but never enforces it, so the table is scanned. One offending
-- row per NULL or duplicated key.
SELECT artist_id, count(*) AS row_count,
       CASE WHEN artist_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM artists
GROUP BY artist_id
HAVING artist_id IS NULL OR count(*) > 1
ORDER BY artist_id NULLS FIRST;
