#!/usr/bin/env bash
# The consumer's inbox forgets (issue 19, item 6; CONTRACT §6): with INBOX_RETENTION_S=4
# the inbox janitor deletes processed_events rows older than 4 s in batches of 5, so under
# a steady stream of saga events the table stays bounded (its largest sample is well
# below what was processed) and empties once the stream stops; a redelivery inside the
# window is still a duplicate; and the row of an event held in early_events outlives the
# window (a redelivery of it stays a duplicate), because its hold still needs it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

RETENTION=4
DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-inbox-$$-$RANDOM" INBOX_RETENTION_S=$RETENTION \
  INBOX_JANITOR_INTERVAL_MS=200 INBOX_JANITOR_BATCH=5
USER_ID=$(uuid)
inbox_rows() { sql "$DB" "SELECT count(*) FROM processed_events"; }

# A payment ahead of its order's reservation: held, its inbox row with it.
HELD_ORDER=$(create_order "$USER_ID" inbox-held)
HELD_PAY=$(uuid) HELD_INTENT=$(uuid)
payment_succeeded "$HELD_ORDER" "$HELD_INTENT" "$HELD_PAY"
held() { [[ $(sql "$DB" "SELECT count(*) FROM early_events WHERE event_id = '$HELD_PAY'") == 1 ]]; }
check "the early payment is held" wait_for 30 "early_events row" held

# A redelivery inside the window: a duplicate.
ORDER=$(create_order "$USER_ID" inbox-dup)
EVENT=$(uuid)
inventory_reserved "$ORDER" "$EVENT"
check "RESERVED" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/
DUPS=$(metric 'saga_events_handled_total{outcome="duplicate"}')
inventory_reserved "$ORDER" "$EVENT"
dup_counted() { (($(metric 'saga_events_handled_total{outcome="duplicate"}') > DUPS)); }
check "a redelivery inside the window is a duplicate" wait_for 10 "duplicate counted" dup_counted
check "one inbox row for it" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$EVENT'")" 1

# Load: rounds of new orders and their reservations for 4 x the window.
MAX=0 ROUNDS=0 START=$SECONDS
while ((SECONDS - START < 4 * RETENTION)); do
  for i in 1 2 3 4 5; do inventory_reserved "$(create_order "$USER_ID" "inbox-load-$ROUNDS-$i")"; done
  ROUNDS=$((ROUNDS + 1))
  n=$(inbox_rows)
  ((n > MAX)) && MAX=$n
done
APPLIED=$(metric 'saga_events_handled_total{outcome="applied"}')
DELETED=$(metric inbox_rows_deleted_total)
echo "rounds $ROUNDS, applied $APPLIED, largest inbox $MAX, deleted so far $DELETED"
check "the load processed more than the table ever held" test "$APPLIED" -gt $((MAX + 10))
check "the janitor deleted rows during the load" test "$DELETED" -gt 0
only_held_left() { [[ $(inbox_rows) == 1 ]]; }
check "after the window only the held event's row is left" wait_for $((RETENTION + 20)) "inbox emptied" only_held_left
check "the held event's row outlives the window" eq \
  "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$HELD_PAY'")" 1
check "still held" held
DUPS=$(metric 'saga_events_handled_total{outcome="duplicate"}')
payment_succeeded "$HELD_ORDER" "$HELD_INTENT" "$HELD_PAY"
check "its redelivery is a duplicate" wait_for 10 "duplicate counted" dup_counted
check "held once" eq "$(sql "$DB" "SELECT count(*) FROM early_events WHERE order_id = '$HELD_ORDER'")" 1
check "the janitor counts what it deleted" test "$(metric inbox_rows_deleted_total)" -ge $((APPLIED - 1))
finish
