-- check: songs.song_id is unique and never NULL
-- Redshift declares the primary key but never enforces it, so the table is scanned. One offending
-- row per NULL or duplicated key.
SELECT song_id, count(*) AS row_count,
       CASE WHEN song_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM songs
GROUP BY song_id
HAVING song_id IS NULL OR count(*) > 1
ORDER BY song_id NULLS FIRST;
