-- check: every star table fed by the files loaded so far (songs, artists from song files; songplays, users, time from event logs) holds at least one row
-- One offending row per empty table. A table counts as fed once any song (or event) file has been
-- staged or loaded into this schema, so a run that loaded only song files is not failed for an
-- empty songplays table, while a run whose files all ended up as rejects is.
WITH fed AS (
  SELECT EXISTS (SELECT 1 FROM load_files WHERE kind = 'song' AND state IN ('staged', 'loaded')) AS songs,
         EXISTS (SELECT 1 FROM load_files WHERE kind = 'event' AND state IN ('staged', 'loaded')) AS events
)
SELECT t.table_name
FROM fed,
     LATERAL (VALUES ('songplays', fed.events, EXISTS (SELECT 1 FROM songplays)),
                     ('users',     fed.events, EXISTS (SELECT 1 FROM users)),
                     ('time',      fed.events, EXISTS (SELECT 1 FROM time)),
                     ('songs',     fed.songs,  EXISTS (SELECT 1 FROM songs)),
                     ('artists',   fed.songs,  EXISTS (SELECT 1 FROM artists))) AS t (table_name, is_fed, has_rows)
WHERE (t.is_fed OR NOT (fed.songs OR fed.events)) AND NOT t.has_rows
ORDER BY t.table_name;
