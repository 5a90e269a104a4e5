-- Held for the coordinator's whole session: one run at a time per schema. Returns true if taken.
SELECT pg_try_advisory_lock(hashtext('loadstar.run.' || current_schema())) AS locked;
