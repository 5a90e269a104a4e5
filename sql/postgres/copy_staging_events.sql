COPY staging_events (run_id, file_id, line, artist, auth, first_name, gender, item_in_session, last_name,
  length, level, location, method, page, registration, session_id, song, status, ts, user_agent, user_id)
FROM STDIN
