-- What the ledger says of the files a worker reports staged, to confirm its report before the
-- coordinator accepts it. $1 = the files' URIs as a text array.
SELECT uri, etag, state, run_id, records, staged, rejected
FROM load_files
WHERE uri = ANY($1::text[]);
