-- Rows the session's last COPY loaded, to check against what the manifest's parts hold.
SELECT pg_last_copy_count() AS rows
