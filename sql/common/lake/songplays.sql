-- The plays of the lake, partitioned by the year and month of their start time (the partition
-- keys first, then every column of songplays), in partition order so that each partition's rows
-- arrive together.
SELECT CAST(EXTRACT(YEAR FROM start_time) AS INTEGER) AS year,
       CAST(EXTRACT(MONTH FROM start_time) AS INTEGER) AS month,
       songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent,
       unmatched_key
FROM songplays
ORDER BY year, month, songplay_id;
