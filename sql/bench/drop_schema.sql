-- Between benchmark cases: drop a case's schema and flush its dirty pages, so that one case's
-- writes are not paid for by the next. {{schema}} is substituted as a quoted identifier.
DROP SCHEMA IF EXISTS {{schema}} CASCADE;
CHECKPOINT;
