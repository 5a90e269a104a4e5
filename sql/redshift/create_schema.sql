-- The target schema. {{schema}} is substituted as a quoted identifier.
CREATE SCHEMA IF NOT EXISTS {{schema}};
