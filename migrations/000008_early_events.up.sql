-- Saga events that arrived before their order could take them (a payment ahead of its
-- reservation, on another topic; CONTRACT §5): held here, durably, instead of holding
-- the Kafka offset. The event's inbox row (processed_events) commits with its hold, so a
-- redelivery is a duplicate; the row goes when the event takes effect or is answered
-- (ORDER_PAYMENT_REJECTED), in the transaction that does so. body is the event as an
-- envelope of CONTRACT §5 (the fields the order service reads), decoded again on replay.
-- Numbered 000008 to stay clear of migrations written in parallel; the migrator applies
-- every file above the recorded version, gaps included.
CREATE TABLE early_events (
    event_id    uuid        PRIMARY KEY,
    order_id    uuid        NOT NULL,
    event_type  text        NOT NULL,
    body        text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX early_events_order ON early_events (order_id, received_at);
