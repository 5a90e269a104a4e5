-- The songs of the lake UNLOADed by the cluster as Parquet, the SELECT of sql/common/lake/songs.sql
-- (the same text, here a string literal: UNLOAD takes its query quoted), partitioned by year and
-- artist (folders year=YYYY/artist_id=ID, NULL year as __HIVE_DEFAULT_PARTITION__).
-- MANIFEST VERBOSE lists every file with its size and row count, from which loadstar writes the
-- lake's manifest.json. No ALLOWOVERWRITE or CLEANPATH: every export writes to a folder of its own,
-- so a file already there means something is wrong. {{to}} (the table's folder, ending in '/'),
-- {{iam_role}} and {{region}} are substituted as string literals.
UNLOAD ('SELECT year, artist_id, song_id, title, duration
FROM songs
ORDER BY year, artist_id, song_id')
TO {{to}}
IAM_ROLE {{iam_role}} REGION {{region}}
FORMAT AS PARQUET
PARTITION BY (year, artist_id)
MANIFEST VERBOSE
MAXFILESIZE 256 MB
