-- Daily listening: plays, listeners and sessions per day (UTC).
-- Redshift has no make_date: the day is the date of the start time, which the time row's year,
-- month and day are the parts of.
SELECT CAST(t.start_time AS DATE) AS day, count(*) AS plays,
       count(DISTINCT p.user_id) AS listeners, count(DISTINCT p.session_id) AS sessions
FROM songplays p JOIN time t ON t.start_time = p.start_time
GROUP BY CAST(t.start_time AS DATE)
ORDER BY day;
