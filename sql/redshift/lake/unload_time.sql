-- The time dimension of the lake UNLOADed by the cluster as Parquet, the SELECT of
-- sql/common/lake/time.sql (the same text, here a string literal: UNLOAD takes its query quoted),
-- partitioned by its year and month (folders year=YYYY/month=M, the two columns not in the files).
-- MANIFEST VERBOSE lists every file with its size and row count, from which loadstar writes the
-- lake's manifest.json. No ALLOWOVERWRITE or CLEANPATH: every export writes to a folder of its own,
-- so a file already there means something is wrong. {{to}} (the table's folder, ending in '/'),
-- {{iam_role}} and {{region}} are substituted as string literals.
UNLOAD ('SELECT year, month, start_time, hour, day, week, weekday
FROM time
ORDER BY year, month, start_time')
TO {{to}}
IAM_ROLE {{iam_role}} REGION {{region}}
FORMAT AS PARQUET
PARTITION BY (year, month)
MANIFEST VERBOSE
MAXFILESIZE 256 MB
