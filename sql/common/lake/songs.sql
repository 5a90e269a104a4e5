-- The songs of the lake, partitioned by year (NULL where unknown) and artist, in partition order.
SELECT year, artist_id, song_id, title, duration
FROM songs
ORDER BY year, artist_id, song_id;
