-- The plays of the lake UNLOADed by the cluster as Parquet, the SELECT of
-- sql/common/lake/songplays.sql (the same text, here a string literal: UNLOAD takes its query
-- quoted), partitioned by year and month of start_time (folders year=YYYY/month=M, the two columns
-- not in the files, NULL as __HIVE_DEFAULT_PARTITION__).
-- MANIFEST VERBOSE lists every file with its size and row count, from which loadstar writes the
-- lake's manifest.json. No ALLOWOVERWRITE or CLEANPATH: every export writes to a folder of its own,
-- so a file already there means something is wrong. {{to}} (the table's folder, ending in '/'),
-- {{iam_role}} and {{region}} are substituted as string literals.
UNLOAD ('SELECT CAST(EXTRACT(YEAR FROM start_time) AS INTEGER) AS year,
       CAST(EXTRACT(MONTH FROM start_time) AS INTEGER) AS month,
       songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent,
       unmatched_key
FROM songplays
ORDER BY year, month, songplay_id')
TO {{to}}
IAM_ROLE {{iam_role}} REGION {{region}}
FORMAT AS PARQUET
PARTITION BY (year, month)
MANIFEST VERBOSE
MAXFILESIZE 256 MB
