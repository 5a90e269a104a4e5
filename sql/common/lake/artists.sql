-- The artists of the lake, unpartitioned, by artist_id.
SELECT artist_id, name, location, latitude, longitude
FROM artists
ORDER BY artist_id;
