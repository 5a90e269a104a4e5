-- One run at a time per schema: Redshift has no advisory locks, so the coordinator takes the runs
-- table itself (ACCESS EXCLUSIVE), inside the transaction that picks the next run_id and creates
-- the run; the lock is held until that transaction ends.
LOCK runs;
