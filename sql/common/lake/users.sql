-- The users of the lake, unpartitioned, by user_id.
SELECT user_id, first_name, last_name, gender, level, as_of
FROM users
ORDER BY user_id;
