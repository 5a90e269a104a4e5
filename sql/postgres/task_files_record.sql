-- Records the task's files as staged in the ledger, with their accounts. Runs in the staging
-- transaction, so the ledger rows and the staged rows commit together. $1 = run_id.
UPDATE load_files f
SET etag = a.etag, size = a.size, run_id = $1, state = 'staged', records = a.records,
    staged = a.staged, rejected = a.rejected, staged_rows = a.staged_rows, updated_at = now()
FROM task_accounts a
WHERE f.file_id = a.file_id;
