-- Settings of the second connection the checks that read only staging and the ledger run on while
-- the transform writes (coordinator/run_store.cc). Such a check never waits long for a lock: were
-- it to wait on one the transform holds, neither would ever finish (the transform waits for the
-- check in loadstar, where PostgreSQL cannot see it), so it gives up instead and is run again on
-- the transform's own connection.
SET lock_timeout = '5s';
-- The transform's backend has a core to itself meanwhile; the checks take the other one alone
-- rather than start parallel workers beside it.
SET max_parallel_workers_per_gather = 0;
-- They start as the transform does, before it analyses the rows just staged: the statistics may
-- still describe the staging tables as the last run left them (empty), and a nested loop planned
-- for an empty table takes minutes over a million rows. Joins are hashed or merged, in memory.
SET enable_nestloop = off;
SET work_mem = '256MB';
