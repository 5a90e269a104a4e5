-- The ledger rows of the task's files, locked. Returns what the ledger knew before this attempt.
SELECT f.file_id, f.uri, f.etag, f.size, f.run_id, f.state, f.records, f.staged, f.rejected
FROM load_files f JOIN task_files t USING (uri)
ORDER BY f.uri
FOR UPDATE OF f;
