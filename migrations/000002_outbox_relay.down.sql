ALTER TABLE outbox_events RESET (
    autovacuum_vacuum_scale_factor,
    autovacuum_vacuum_threshold,
    autovacuum_analyze_scale_factor,
    autovacuum_vacuum_cost_delay
);
DROP INDEX IF EXISTS outbox_dead;
