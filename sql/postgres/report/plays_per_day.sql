-- Daily listening: plays, listeners and sessions per day (UTC).
SELECT make_date(t.year, t.month, t.day) AS day, count(*) AS plays,
       count(DISTINCT p.user_id) AS listeners, count(DISTINCT p.session_id) AS sessions
FROM songplays p JOIN time t ON t.start_time = p.start_time
GROUP BY t.year, t.month, t.day
ORDER BY day;
