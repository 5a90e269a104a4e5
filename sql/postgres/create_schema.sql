-- The target schema. {{schema}} is substituted as a quoted identifier. Run between
-- create_schema_lock.sql and create_schema_unlock.sql, in a transaction of its own, so that it
-- sees a schema another session has just created.
CREATE SCHEMA IF NOT EXISTS {{schema}};
