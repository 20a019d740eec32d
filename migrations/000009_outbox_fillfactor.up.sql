-- Room on every page of outbox_events for a row's next version. A relay's lease
-- (claimed_until, claim_id: no index covers them, migration 000006) is then a HOT
-- update, written beside the row with no new entry in any of the table's five indexes;
-- with full pages (the default fillfactor 100: rows are ~600 bytes, ~12 a page) every
-- lease went to another page and wrote five index entries, and every later claim's scan
-- of the pending index met the dead ones. Applies to pages written from now on.
ALTER TABLE outbox_events SET (fillfactor = 50);
