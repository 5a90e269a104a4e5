-- check: users.user_id is unique and never NULL
-- PostgreSQL enforces the primary key; Redshift does not, and a table rebuilt without its
-- constraint would not either. One offending row per NULL or duplicated key. While the table has
-- its validated primary key constraint the scan is skipped: the constraint already guarantees it.
SELECT user_id, count(*) AS row_count,
       CASE WHEN user_id IS NULL THEN 'NULL key' ELSE 'duplicate key' END AS problem
FROM users
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conrelid = 'users'::regclass AND c.contype = 'p' AND c.convalidated)
GROUP BY user_id
HAVING user_id IS NULL OR count(*) > 1
ORDER BY user_id NULLS FIRST;
