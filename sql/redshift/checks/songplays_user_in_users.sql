-- check: every songplay names a user that is in users
-- The worker rejects a NextSong event without a userId ("a play without a user"), so a NULL
-- user_id here is an offence too: it cannot come from the input.
-- Written as an outer join (a NULL user_id finds no user either) so that it runs as one hash
-- anti-join rather than a lookup per songplay.
SELECT p.songplay_id, p.user_id, p.start_time
FROM songplays p
LEFT JOIN users u ON u.user_id = p.user_id
WHERE u.user_id IS NULL
ORDER BY p.songplay_id;
