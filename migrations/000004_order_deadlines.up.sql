-- Deadlines move out of the orders table's indexes. Every transition changes status
-- and expired_at, and the partial index orders_deadline covered both, so no update of
-- an order could be a HOT update: each wrote a new entry into all four indexes of
-- orders (three of them keyed by random UUIDs). Now expired_at is indexed nowhere, an
-- update stays on its page when there is room (fillfactor 80 keeps room), and the
-- deadline of each state entered goes into an append-only log whose one index grows
-- at its right edge.
--
-- A row of order_deadlines is live while its order is still non-terminal with exactly
-- that deadline (orders.expired_at = due_at); any other row is stale and the sweeper
-- deletes it once it falls due. No foreign key: orders are never deleted, and the
-- check would cost a lookup per row.
CREATE TABLE order_deadlines (
    due_at   timestamptz NOT NULL,
    order_id uuid        NOT NULL
);
CREATE INDEX order_deadlines_due ON order_deadlines (due_at);
INSERT INTO order_deadlines (due_at, order_id)
    SELECT expired_at, id FROM orders
    WHERE status IN ('CREATED', 'RESERVED', 'PAYMENT_PENDING') AND expired_at IS NOT NULL;
ALTER TABLE order_deadlines SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);
DROP INDEX orders_deadline;
ALTER TABLE orders SET (fillfactor = 80);
