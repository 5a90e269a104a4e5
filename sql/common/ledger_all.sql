-- What the ledger knows, for planning: which files are loaded or staged, with which ETag.
SELECT uri, etag, state, run_id FROM load_files WHERE state <> 'new';
