-- Orders, their items, the transactional outbox and the consumer's inbox.

CREATE TABLE orders (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL,
    idempotency_key  text        NOT NULL,
    request_hash     text        NOT NULL,
    status           text        NOT NULL CHECK (status IN
                       ('CREATED', 'RESERVED', 'PAYMENT_PENDING', 'PAID', 'CANCELLED', 'EXPIRED')),
    currency         char(3)     NOT NULL,
    total_amount     bigint      NOT NULL CHECK (total_amount > 0), -- minor units
    reason           text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    expired_at       timestamptz, -- deadline of the current state
    CONSTRAINT orders_user_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user_created ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_deadline ON orders (expired_at)
    WHERE status IN ('CREATED', 'RESERVED', 'PAYMENT_PENDING');

CREATE TABLE order_items (
    order_id  uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no   integer NOT NULL,
    sku_id    text    NOT NULL,
    quantity  integer NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    price     bigint  NOT NULL CHECK (price > 0), -- minor units
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE outbox_events (
    seq             bigserial   PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    aggregate_id    uuid        NOT NULL, -- the order id, also the Kafka key
    event_type      text        NOT NULL,
    payload         text        NOT NULL, -- the whole envelope, as published
    status          text        NOT NULL DEFAULT 'PENDING'
                      CHECK (status IN ('PENDING', 'SENT', 'DEAD')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    retry_count     integer     NOT NULL DEFAULT 0,
    last_error      text,
    sent_at         timestamptz
);
-- The relay's claim: pending rows in commit order, and "is there an older pending
-- event of this order" answered from the index.
CREATE INDEX outbox_pending ON outbox_events (seq) WHERE status = 'PENDING';
CREATE INDEX outbox_pending_by_order ON outbox_events (aggregate_id, seq)
    WHERE status = 'PENDING';
CREATE INDEX outbox_sent_at ON outbox_events (sent_at) WHERE status = 'SENT';

CREATE TABLE processed_events (
    event_id     uuid        PRIMARY KEY,
    order_id     uuid        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
