-- Numbered 000011: one above the highest on main when written (expect a renumber on merge).
-- The inbox janitor (actors/saga/inbox_janitor.cpp) deletes processed_events rows older
-- than INBOX_RETENTION_S, oldest first, in small batches: this index finds them without
-- reading the whole table.
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
