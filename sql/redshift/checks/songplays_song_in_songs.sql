-- check: every songplay matched to a song names a song that is in songs
-- song_id is NULL for a play that matched no catalogue song: that is not an offence.
SELECT p.songplay_id, p.song_id, p.start_time
FROM songplays p
WHERE p.song_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM songs s WHERE s.song_id = p.song_id)
ORDER BY p.songplay_id;
