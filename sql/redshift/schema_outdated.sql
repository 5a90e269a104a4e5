-- What in this schema an older loadstar made and this one cannot use (Redshift cannot add a column
-- only where it is missing, nor turn a VARCHAR key into a BIGINT): one row per table in the old
-- layout. Runs before schema.sql.
SELECT table_name
FROM information_schema.columns
WHERE table_schema = current_schema()
  AND ((table_name IN ('song_matches', 'songplays') AND column_name IN ('match_key', 'unmatched_key')
        AND data_type <> 'bigint')
       OR (table_name = 'staging_events' AND column_name = 'run_id'))
GROUP BY table_name
ORDER BY table_name
