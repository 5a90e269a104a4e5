-- Loads the accepted parts of a run, listed in one manifest, into staging_files in one COPY. The parts
-- are gzip CSV written by the workers: every value quoted, NULL an empty unquoted field (hence
-- EMPTYASNULL: a quoted "" stays the empty string). The workers validated every record, so any
-- error means the parts are not what they claim: MAXERROR 0. Statistics and compression are
-- left alone for a table that is emptied at the end of every run. 's3://staging/p/run=42/c=x/manifests/staging_plays.manifest', 'arn:aws:iam::123456789012:role/loadstar-copy'
-- and 'us-west-2' are substituted as string literals.
COPY staging_files (run_id, file_id, uri, kind, etag, size, records, staged, rejected, staged_rows)
FROM 's3://staging/p/run=42/c=x/manifests/staging_plays.manifest'
IAM_ROLE 'arn:aws:iam::123456789012:role/loadstar-copy' REGION 'us-west-2'
MANIFEST CSV GZIP EMPTYASNULL MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF
