-- $1 = run_id, $2 = files listed, $3 = files skipped as already loaded, $4 = bytes listed.
UPDATE runs SET files_listed = $2, files_skipped = $3, bytes_listed = $4 WHERE run_id = $1;
