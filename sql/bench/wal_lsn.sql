-- Where the server's write-ahead log is now, read before a timed case. Not timed.
SELECT pg_current_wal_lsn();
