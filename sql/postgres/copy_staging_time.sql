COPY staging_time (run_id, file_id, ts, hour, day, week, month, year, weekday) FROM STDIN
