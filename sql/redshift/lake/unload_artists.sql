-- The artists of the lake UNLOADed by the cluster as Parquet, the SELECT of
-- sql/common/lake/artists.sql (the same text, here a string literal: UNLOAD takes its query
-- quoted), unpartitioned.
-- MANIFEST VERBOSE lists every file with its size and row count, from which loadstar writes the
-- lake's manifest.json. No ALLOWOVERWRITE or CLEANPATH: every export writes to a folder of its own,
-- so a file already there means something is wrong. {{to}} (the table's folder, ending in '/'),
-- {{iam_role}} and {{region}} are substituted as string literals.
UNLOAD ('SELECT artist_id, name, location, latitude, longitude
FROM artists
ORDER BY artist_id')
TO {{to}}
IAM_ROLE {{iam_role}} REGION {{region}}
FORMAT AS PARQUET
MANIFEST VERBOSE
MAXFILESIZE 256 MB
