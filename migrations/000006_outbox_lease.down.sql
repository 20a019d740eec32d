DROP SEQUENCE outbox_claim_ids;
ALTER TABLE outbox_events DROP COLUMN claim_id;
ALTER TABLE outbox_events DROP COLUMN claimed_until;
