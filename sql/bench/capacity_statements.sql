-- What PostgreSQL spent its time on since the last reset (pg_stat_statements): the busiest
-- statements with their calls, total and mean milliseconds, and text without comments, on one
-- line. Statements on each connection's own temporary tables are counted apart by the extension;
-- here they are added up by their text.
WITH s AS (
  SELECT calls, total_exec_time,
         left(btrim(regexp_replace(regexp_replace(query, '--[^\n]*', '', 'g'), '\s+', ' ', 'g')), 120) AS query
  FROM pg_stat_statements
)
SELECT sum(calls) AS calls,
       round(sum(total_exec_time)::numeric, 1) AS total_ms,
       round((sum(total_exec_time) / greatest(sum(calls), 1))::numeric, 3) AS mean_ms,
       query
FROM s
GROUP BY query
ORDER BY sum(total_exec_time) DESC
LIMIT 12;
