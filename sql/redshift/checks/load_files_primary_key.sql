-- check: load_files.file_id and load_files.uri are each unique and never NULL
-- Redshift declares the ledger's keys but never enforces them; a file counted twice would count
-- twice in every run account. One offending row per NULL or duplicated key.
SELECT 'file_id' AS key_column, CAST(file_id AS VARCHAR(20)) AS key_value, count(*) AS row_count
FROM load_files
GROUP BY file_id
HAVING file_id IS NULL OR count(*) > 1
UNION ALL
SELECT 'uri', uri, count(*)
FROM load_files
GROUP BY uri
HAVING uri IS NULL OR count(*) > 1
ORDER BY key_column, key_value;
