-- What the ledger knows, for planning: which files are loaded or staged, with which ETag, and
-- their ids (reused when a changed file is staged again).
SELECT file_id, uri, etag, state, run_id FROM load_files WHERE state <> 'new';
