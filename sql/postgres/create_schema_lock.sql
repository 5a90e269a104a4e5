-- Taken by the session around CREATE SCHEMA, database-wide: CREATE SCHEMA IF NOT EXISTS is not
-- safe against itself (two sessions can both find the name free, and the later one then fails on
-- pg_namespace's unique index). A second loadstar waits here, then finds the schema created.
-- The two-key form: its keys never meet the one-key locks of run_lock.sql and schema.sql.
SELECT pg_advisory_lock(hashtext('loadstar'), hashtext('create_schema'));
