-- This session's process id, as stv_sessions lists it.
SELECT pg_backend_pid() AS pid
