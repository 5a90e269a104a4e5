-- check: every songplay matched to an artist names an artist that is in artists
-- artist_id is NULL for a play that matched no catalogue song: that is not an offence.
SELECT p.songplay_id, p.artist_id, p.start_time
FROM songplays p
WHERE p.artist_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM artists a WHERE a.artist_id = p.artist_id)
ORDER BY p.songplay_id;
