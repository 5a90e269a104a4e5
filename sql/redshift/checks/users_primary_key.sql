-- check: users.user_id is unique and never NULL
-- Redshift declares the primary key but never enforces it, so the table is scanned. One offending
-- row per NULL or duplicated key.
SELECT user_id, count(*) AS row_count,
       CASE WHEN user_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM users
GROUP BY user_id
HAVING user_id IS NULL OR count(*) > 1
ORDER BY user_id NULLS FIRST;
