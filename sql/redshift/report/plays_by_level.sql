-- Free versus paid listening: plays and listeners per subscription level.
-- The share is of all plays, counted once in a derived table (rather than as a window over the
-- groups' counts) and cast to DECIMAL(4, 1) (see match_share.sql).
SELECT p.level, count(*) AS plays, count(DISTINCT p.user_id) AS listeners,
       CAST(ROUND(100.0 * count(*) / a.total_plays, 1) AS DECIMAL(4, 1)) AS share_pct
FROM songplays p
CROSS JOIN (SELECT count(*) AS total_plays FROM songplays) a
GROUP BY p.level, a.total_plays
ORDER BY p.level;
