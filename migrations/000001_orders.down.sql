DROP TABLE IF EXISTS processed_events;
DROP TABLE IF EXISTS outbox_events;
DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
