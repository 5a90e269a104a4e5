-- Why the session's last COPY failed, from the rows it left in stl_load_errors (which outlive the
-- rollback): where and what, for the error message.
SELECT TRIM(filename) AS file, line_number, TRIM(colname) AS column_name, err_code, TRIM(err_reason) AS reason,
       TRIM(raw_field_value) AS value
FROM stl_load_errors
WHERE query = pg_last_copy_id()
ORDER BY line_number
LIMIT 5
