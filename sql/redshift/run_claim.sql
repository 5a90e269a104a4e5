-- The run is served by this session from now on. $1 = run_id, $2 = the session's pg_backend_pid().
UPDATE runs SET owner_pid = $2 WHERE run_id = $1
