COPY task_files (uri, kind, etag, size) FROM STDIN
