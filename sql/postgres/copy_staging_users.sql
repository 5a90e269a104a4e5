COPY staging_users (run_id, file_id, line, user_id, first_name, last_name, gender, level, ts, session_id,
  item_in_session)
FROM STDIN
