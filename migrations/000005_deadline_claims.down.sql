ALTER TABLE order_deadlines DROP COLUMN claimed_until;
