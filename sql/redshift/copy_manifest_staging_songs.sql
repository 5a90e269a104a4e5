-- Loads the accepted parts of a run, listed in one manifest, into staging_songs in one COPY. The parts
-- are gzip CSV written by the workers: every value quoted, NULL an empty unquoted field (hence
-- EMPTYASNULL: a quoted "" stays the empty string). The workers validated every record, so any
-- error means the parts are not what they claim: MAXERROR 0. Statistics and compression are
-- left alone for a table that is emptied at the end of every run. {{manifest}}, {{iam_role}}
-- and {{region}} are substituted as string literals.
COPY staging_songs (run_id, file_id, line, num_songs, artist_id, artist_latitude, artist_longitude,
  artist_location, artist_name, song_id, title, duration, year, match_key)
FROM {{manifest}}
IAM_ROLE {{iam_role}} REGION {{region}}
MANIFEST CSV GZIP EMPTYASNULL MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF
