-- The deadline an order was created with. expired_at follows the current state, but an
-- idempotent replay answers the first 201's body (CONTRACT §3): the order as created,
-- whatever happened to it since. Orders from before this column keep it NULL unless
-- they are still CREATED, where expired_at is that deadline.
ALTER TABLE orders ADD COLUMN created_expired_at timestamptz;
UPDATE orders SET created_expired_at = expired_at WHERE status = 'CREATED';
