COPY task_accounts (file_id, etag, size, records, staged, rejected, staged_rows) FROM STDIN
