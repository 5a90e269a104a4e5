-- Loads the accepted parts of a run, listed in one manifest, into rejects in one COPY. The parts
-- are gzip CSV written by the workers: every value quoted, NULL an empty unquoted field (hence
-- EMPTYASNULL: a quoted "" stays the empty string). The workers validated every record, so any
-- error means the parts are not what they claim: MAXERROR 0. Statistics and compression are
-- left alone: a COPY adds a run's few rejects to a table that keeps every run's. 's3://staging/p/run=42/c=x/manifests/staging_plays.manifest', 'arn:aws:iam::123456789012:role/loadstar-copy'
-- and 'us-west-2' are substituted as string literals.
COPY rejects (run_id, file_id, line, byte_offset, reason, excerpt)
FROM 's3://staging/p/run=42/c=x/manifests/staging_plays.manifest'
IAM_ROLE 'arn:aws:iam::123456789012:role/loadstar-copy' REGION 'us-west-2'
MANIFEST CSV GZIP EMPTYASNULL MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF
