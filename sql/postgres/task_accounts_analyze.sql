-- Statistics for the task's accounts before they update the ledger (see task_files_analyze.sql).
ANALYZE task_accounts;
