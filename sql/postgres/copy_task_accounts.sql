COPY task_accounts (file_id, etag, size, records, staged, rejected) FROM STDIN
