-- The highest file_id the ledger holds (0 when empty): where a coordinator that assigns file ids
-- itself continues.
SELECT COALESCE(max(file_id), 0) AS file_id FROM load_files;
