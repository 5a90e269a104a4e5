-- Per-connection scratch tables for the task being staged; emptied at every commit.
CREATE TEMP TABLE IF NOT EXISTS task_files (
  uri text PRIMARY KEY, kind text NOT NULL, etag text NOT NULL, size bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS task_accounts (
  file_id bigint PRIMARY KEY, etag text NOT NULL, size bigint NOT NULL,
  records bigint NOT NULL, staged bigint NOT NULL, rejected bigint NOT NULL, staged_rows bigint NOT NULL
) ON COMMIT DELETE ROWS;
