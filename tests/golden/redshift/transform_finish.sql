-- The end of the transform transaction, after the transforms and the data-quality checks have
-- passed. 42 is substituted as an integer.
-- The run is done: its files are loaded (transform.sql wrote them to the ledger), its staging rows
-- and file accounts are no longer needed. DELETE, not TRUNCATE: TRUNCATE would commit.
DELETE FROM staging_plays WHERE run_id = 42;
DELETE FROM staging_users WHERE run_id = 42;
DELETE FROM staging_time WHERE run_id = 42;
DELETE FROM staging_songs WHERE run_id = 42;
DELETE FROM staging_files WHERE run_id = 42;
UPDATE runs SET state = 'done', error = NULL, finished_at = TIMESTAMP 'now' WHERE run_id = 42;
