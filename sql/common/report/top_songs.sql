-- The most played songs (plays matched to the catalogue).
SELECT s.title, a.name AS artist, count(*) AS plays
FROM songplays p
JOIN songs s ON s.song_id = p.song_id
JOIN artists a ON a.artist_id = p.artist_id
GROUP BY s.title, a.name
ORDER BY plays DESC, s.title
LIMIT 5;
