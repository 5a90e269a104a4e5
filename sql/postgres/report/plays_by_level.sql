-- Free versus paid listening: plays and listeners per subscription level.
SELECT p.level, count(*) AS plays, count(DISTINCT p.user_id) AS listeners,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct
FROM songplays p
GROUP BY p.level
ORDER BY p.level;
