-- pgbench: the same three inserts the service commits for one order (the order, its 2
-- items, its ORDER_CREATED outbox row), one order per transaction, in one statement
-- (as the service does: one round trip).
BEGIN;
WITH o AS (
  INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, currency,
                      total_amount, created_at, updated_at, expired_at)
  VALUES (gen_random_uuid(), gen_random_uuid(), md5(random()::text), 'fingerprint00000',
          'CREATED', 'EUR', 2600, now(), now(), now() + interval '300 seconds')
  RETURNING id),
i AS (
  INSERT INTO order_items (order_id, line_no, sku_id, quantity, price)
  SELECT o.id, v.n, v.sku, v.q, v.p FROM o,
    (VALUES (0, 'sku-1', 2, 1250), (1, 'sku-gift', 1, 100)) AS v(n, sku, q, p))
INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload)
SELECT gen_random_uuid(), o.id, 'ORDER_CREATED',
  '{"event_id":"x","event_type":"ORDER_CREATED","occurred_at":"2026-01-01T00:00:00.000Z","schema_version":1,"payload":{"order_id":"x","user_id":"y","total_amount":26.00,"currency":"EUR","items":[{"sku_id":"sku-1","quantity":2,"price":12.50},{"sku_id":"sku-gift","quantity":1,"price":1.00}],"created_at":"2026-01-01T00:00:00Z"}}'
FROM o;
END;
