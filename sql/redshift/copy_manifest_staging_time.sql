-- Loads the accepted parts of a run, listed in one manifest, into staging_time in one COPY. The parts
-- are gzip CSV written by the workers: every value quoted, NULL an empty unquoted field (hence
-- EMPTYASNULL: a quoted "" stays the empty string). The workers validated every record, so any
-- error means the parts are not what they claim: MAXERROR 0. Statistics and compression are
-- left alone for a table that is emptied at the end of every run. {{manifest}}, {{iam_role}}
-- and {{region}} are substituted as string literals.
COPY staging_time (run_id, file_id, ts, hour, day, week, month, year, weekday)
FROM {{manifest}}
IAM_ROLE {{iam_role}} REGION {{region}}
MANIFEST CSV GZIP EMPTYASNULL MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF
