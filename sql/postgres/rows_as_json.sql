-- One query's rows as a single JSON array of objects (column name -> value), in the query's
-- order. PostgreSQL's types decide the JSON types: numeric columns give numbers, NULL gives null,
-- everything else a string. The query's SELECT is put in place of the marker line below.
SELECT COALESCE(json_agg(r), '[]'::json) AS rows
FROM (
/*@query@*/
) AS r;
