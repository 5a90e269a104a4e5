-- Whether the session with process id $1 is still connected (a leader-node table: queried on its
-- own, never joined with a user table).
SELECT count(*) AS alive FROM stv_sessions WHERE process = $1
