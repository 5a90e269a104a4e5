-- The id of the next run: one more than the highest so far. Runs after run_lock.sql in the same
-- transaction, so no other coordinator can take the same id before run_create.sql inserts it.
SELECT COALESCE(max(run_id), 0) + 1 AS run_id FROM runs;
