-- The cluster's slices: each table's parts are made a multiple of this, so that every slice
-- reads its share of a COPY.
SELECT count(*) AS slices FROM stv_slices
