-- check: every songplay names a user that is in users
-- The worker rejects a NextSong event without a userId ("a play without a user"), so a NULL
-- user_id here is an offence too: it cannot come from the input.
SELECT p.songplay_id, p.user_id, p.start_time
FROM songplays p
WHERE p.user_id IS NULL
   OR NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = p.user_id)
ORDER BY p.songplay_id;
