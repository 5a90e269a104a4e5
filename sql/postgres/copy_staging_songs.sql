COPY staging_songs (run_id, file_id, line, num_songs, artist_id, artist_latitude, artist_longitude,
  artist_location, artist_name, song_id, title, duration, year,
  match_key)
FROM STDIN
