-- An export reads one consistent snapshot: every table of the lake as of the same committed
-- state, whatever commits meanwhile. Must be the first statement of its transaction.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
-- Values are read as text and written as Parquet: timestamps in ISO form, doubles with every
-- digit they need to read back as the same double.
SET LOCAL DateStyle TO ISO;
SET LOCAL extra_float_digits TO 3;
