-- $1 = sources.
INSERT INTO runs (sources, state) VALUES ($1, 'staging') RETURNING run_id;
