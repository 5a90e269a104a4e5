-- Settings of every loadstar connection.
-- Every other statement names its tables unqualified; this points them at the target schema.
SET search_path TO {{schema}};
