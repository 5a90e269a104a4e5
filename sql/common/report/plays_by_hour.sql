-- When people listen: plays per hour of the day (UTC).
SELECT t.hour, count(*) AS plays
FROM songplays p JOIN time t ON t.start_time = p.start_time
GROUP BY t.hour
ORDER BY t.hour;
