-- Runs one data-quality check (a file under checks/) and returns its first $1 offending rows,
-- each with the number of offending rows in all as a last column. coordinator/quality_checks.cc
-- puts the check's SELECT in place of the marker line below; a check that passes returns no rows.
SELECT *
FROM (
  SELECT c.*, count(*) OVER () AS loadstar_offending_rows
  FROM (
/*@query@*/
  ) AS c
) AS s
LIMIT $1;
