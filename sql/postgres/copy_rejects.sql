COPY rejects (run_id, file_id, line, byte_offset, reason, excerpt) FROM STDIN
