-- Runs one data-quality check (a file under checks/) and returns its first $1 offending rows,
-- each with the number of offending rows in all as a last column. coordinator/report/quality_checks.cc
-- puts the check's SELECT in place of the marker line below; a check that passes returns no rows.
-- The check is materialized and run to completion once: under a LIMIT the planner would otherwise
-- favour plans that return a first row fast (nested loops), which over a million-row run can take
-- minutes where the hash joins it should use take a fraction of a second.
WITH c AS MATERIALIZED (
/*@query@*/
)
SELECT c.*, (SELECT count(*) FROM c) AS loadstar_offending_rows
FROM c
LIMIT $1;
