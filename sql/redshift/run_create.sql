-- $1 = run_id (from run_next_id.sql), $2 = sources.
-- TIMESTAMP 'now' is the current time on both engines: Redshift's GETDATE() and SYSDATE do not
-- exist in PostgreSQL, and on Redshift CURRENT_TIMESTAMP and now() are leader-node-only functions,
-- which fail in a statement that references a user table. The literal is read when the statement
-- is parsed: send it unprepared, as loadstar does (a prepared statement would keep the time it was
-- prepared at on PostgreSQL).
INSERT INTO runs (run_id, sources, state, started_at) VALUES ($1, $2, 'staging', TIMESTAMP 'now');
