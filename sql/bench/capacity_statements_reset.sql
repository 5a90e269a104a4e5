-- Before a capacity run dispatches: forget what PostgreSQL has timed so far (pg_stat_statements).
SELECT pg_stat_statements_reset();
