-- pgbench: the same three inserts the service commits for one order (order, 2 items,
-- ORDER_CREATED outbox row), one order per transaction.
BEGIN;
SELECT gen_random_uuid() AS oid, gen_random_uuid() AS uid, gen_random_uuid() AS eid,
       md5(random()::text) AS k \gset
INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, currency, total_amount,
                    created_at, updated_at, expired_at)
VALUES (:'oid', :'uid', :'k', 'fingerprint00000', 'CREATED', 'EUR', 2600, now(), now(),
        now() + interval '300 seconds');
INSERT INTO order_items (order_id, line_no, sku_id, quantity, price)
VALUES (:'oid', 0, 'sku-1', 2, 1250), (:'oid', 1, 'sku-gift', 1, 100);
INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload)
VALUES (:'eid', :'oid', 'ORDER_CREATED',
        '{"event_id":"x","event_type":"ORDER_CREATED","occurred_at":"2026-01-01T00:00:00.000Z","schema_version":1,"payload":{"order_id":"x","user_id":"y","total_amount":26.00,"currency":"EUR","items":[{"sku_id":"sku-1","quantity":2,"price":12.50},{"sku_id":"sku-gift","quantity":1,"price":1.00}],"created_at":"2026-01-01T00:00:00Z"}}');
END;
