-- The sessions serving unfinished runs, to find out whether another coordinator is still at work.
SELECT run_id, owner_pid FROM runs WHERE state IN ('staging', 'transforming') AND owner_pid IS NOT NULL
