-- The time dimension of the lake, partitioned by its own year and month (those of start_time), in
-- partition order.
SELECT year, month, start_time, hour, day, week, weekday
FROM time
ORDER BY year, month, start_time;
