-- The most played artists (plays matched to the catalogue).
SELECT a.name AS artist, count(*) AS plays, count(DISTINCT p.user_id) AS listeners
FROM songplays p
JOIN artists a ON a.artist_id = p.artist_id
GROUP BY a.artist_id, a.name
ORDER BY plays DESC, a.name, a.artist_id
LIMIT 5;
