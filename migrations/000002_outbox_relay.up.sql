-- The outbox relay's needs beyond 000001: a cheap count of DEAD rows for the
-- outbox_dead_rows gauge, and vacuum that keeps up with a queue table. Every event
-- row is updated once (PENDING -> SENT) and deleted an hour later, so dead tuples
-- pile up far faster than the default 20% threshold notices; the claim scans the
-- pending indexes, whose dead entries only vacuum removes.
CREATE INDEX outbox_dead ON outbox_events (seq) WHERE status = 'DEAD';
ALTER TABLE outbox_events SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);
