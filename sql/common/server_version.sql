-- The server's version text, which tells PostgreSQL and Redshift apart.
SELECT version() AS version;
