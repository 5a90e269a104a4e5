-- Releases the lock of create_schema_lock.sql once the schema exists.
SELECT pg_advisory_unlock(hashtext('loadstar'), hashtext('create_schema'));
