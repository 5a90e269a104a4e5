-- The most active listeners: plays, sessions and current subscription level.
SELECT p.user_id, u.first_name, u.last_name, u.level, count(*) AS plays,
       count(DISTINCT p.session_id) AS sessions
FROM songplays p
LEFT JOIN users u ON u.user_id = p.user_id
WHERE p.user_id IS NOT NULL
GROUP BY p.user_id, u.first_name, u.last_name, u.level
ORDER BY plays DESC, p.user_id
LIMIT 5;
