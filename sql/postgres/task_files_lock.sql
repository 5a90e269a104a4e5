-- Makes sure every file of the task has a ledger row, then locks those rows for the rest of the
-- staging transaction: a second attempt of the same task waits here until the first one has
-- committed or rolled back, and then sees what it did. $1 = run_id.
WITH created AS (
  INSERT INTO load_files (uri, kind, etag, size, run_id, state)
  SELECT uri, kind, etag, size, $1, 'new' FROM task_files
  ON CONFLICT (uri) DO NOTHING
  RETURNING 1
)
SELECT count(*) FROM created;
