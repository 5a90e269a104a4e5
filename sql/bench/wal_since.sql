-- Bytes of write-ahead log written since {{lsn}} (an LSN substituted as a string literal, read with
-- sql/bench/wal_lsn.sql before the case), read after a timed case. Not timed.
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), {{lsn}}::pg_lsn);
