COPY staging_plays (run_id, file_id, line, songplay_id, ts, user_id, level, session_id, location, user_agent, match_key)
FROM STDIN
