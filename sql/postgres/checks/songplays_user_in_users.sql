-- check: every songplay names a user that is in users
-- A NextSong event always comes from a logged-in user, so a NULL user_id is an offence too.
SELECT p.songplay_id, p.user_id, p.start_time
FROM songplays p
WHERE p.user_id IS NULL
   OR NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = p.user_id)
ORDER BY p.songplay_id;
