-- After a capacity run (bench/capacity.sh): the ledger's files by state, and the songs the star
-- holds, as (what, count) rows. {{schema}} is substituted as a quoted identifier.
SELECT 'files_' || state AS what, count(*) AS n FROM {{schema}}.load_files GROUP BY state
UNION ALL
SELECT 'songs', count(*) FROM {{schema}}.songs
ORDER BY 1;
