ALTER TABLE orders RESET (fillfactor);
CREATE INDEX orders_deadline ON orders (expired_at)
    WHERE status IN ('CREATED', 'RESERVED', 'PAYMENT_PENDING');
DROP TABLE order_deadlines;
