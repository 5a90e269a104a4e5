-- Statistics for the task's scratch table, so that joining it with the ledger looks up the
-- task's rows by index instead of scanning every ledger row (a temporary table has none until
-- analysed: at 100,000 ledger rows, 16 ms a task instead of 0.06 ms).
ANALYZE task_files;
