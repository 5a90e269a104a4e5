-- check: songplays.songplay_id is unique and never NULL
-- Redshift declares the primary key but never enforces it, so the table is scanned. One offending
-- row per NULL or duplicated key.
SELECT songplay_id, count(*) AS row_count,
       CASE WHEN songplay_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM songplays
GROUP BY songplay_id
HAVING songplay_id IS NULL OR count(*) > 1
ORDER BY songplay_id NULLS FIRST;
