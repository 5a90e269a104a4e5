-- Runs one data-quality check (a file under checks/) and returns its first $1 offending rows,
-- each with the number of offending rows in all as a last column. coordinator/report/quality_checks.cc
-- puts the check's SELECT in place of the marker line below; a check that passes returns no rows.
-- A derived table, not a WITH clause: Redshift allows no WITH clause inside a WITH clause's
-- subquery, and a check may have its own. The count is a window over all of the check's rows,
-- taken before the LIMIT. Redshift may drop the check's ORDER BY inside the derived table, so the
-- sample rows can come in any order.
SELECT c.*, count(*) OVER () AS loadstar_offending_rows
FROM (
/*@query@*/
) AS c
LIMIT $1;
