-- Reports and checks outside a load read one consistent snapshot: every statement of the
-- transaction sees the same committed data, whatever commits meanwhile. Must be the first
-- statement of its transaction.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
