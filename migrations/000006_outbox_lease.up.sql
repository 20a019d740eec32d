-- Leases instead of open transactions: a relay claims a batch by writing claimed_until
-- and claim_id in a short transaction, produces to Kafka outside of any transaction,
-- and records the outcome in a second short one. A claimed row stays PENDING, so the
-- per-order rule (no PENDING row of the order before it) keeps later events behind it.
-- Neither column is indexed, so taking and releasing a lease are HOT updates.
ALTER TABLE outbox_events ADD COLUMN claimed_until timestamptz;
ALTER TABLE outbox_events ADD COLUMN claim_id bigint;
CREATE SEQUENCE outbox_claim_ids;
