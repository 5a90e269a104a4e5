-- check: every songplay's start_time is in time
SELECT p.songplay_id, p.start_time
FROM songplays p
WHERE NOT EXISTS (SELECT 1 FROM time t WHERE t.start_time = p.start_time)
ORDER BY p.songplay_id;
