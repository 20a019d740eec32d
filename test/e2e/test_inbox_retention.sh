#!/usr/bin/env bash
# The consumer's inbox forgets (issue 19, item 6; CONTRACT §6): with INBOX_RETENTION_S=8
# the inbox janitor deletes processed_events rows older than 8 s in batches of 5, so under
# a steady stream of saga events the table stays bounded (its largest sample is well
# below what was processed) and empties once the stream stops; a redelivery inside the
# window is still a duplicate; and the row of an event held in early_events outlives the
# window (a redelivery of it stays a duplicate), because its hold still needs it. Once a
# row is gone, a redelivery takes effect again: the window must outlast any redelivery.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

RETENTION=8
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

# A redelivery inside the window is a duplicate. A PAYMENT_SUCCEEDED for a cancelled order
# is answered with ORDER_PAYMENT_REJECTED; only its inbox row stops a redelivery from
# answering again (the order's status alone would allow it).
ORDER=$(create_order "$USER_ID" inbox-dup)
reservation_failed "$ORDER"
check "CANCELLED" wait_for 30 CANCELLED status_is "$DB" "$ORDER" CANCELLED/STOCK_EXHAUSTED
PAY=$(uuid) INTENT=$(uuid)
rejections() { outbox_count "$DB" "$ORDER" ORDER_PAYMENT_REJECTED; }
rejections_are() { [[ $(rejections) == "$1" ]]; }
payment_succeeded "$ORDER" "$INTENT" "$PAY"
check "answered with ORDER_PAYMENT_REJECTED" wait_for 30 "rejection" rejections_are 1
DUPS=$(metric 'saga_events_handled_total{outcome="duplicate"}')
dup_counted() { (($(metric 'saga_events_handled_total{outcome="duplicate"}') > DUPS)); }
payment_succeeded "$ORDER" "$INTENT" "$PAY"
check "a redelivery inside the window is a duplicate" wait_for $RETENTION "duplicate counted" dup_counted
check "not answered twice" rejections_are 1

# Load: rounds of new orders and their reservations for 4 x the window.
MAX=0 ROUNDS=0 START=$SECONDS
while ((SECONDS - START < 5 * RETENTION / 2)); do
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
only_held_left() {
  [[ $(sql "$DB" "SELECT count(*) || '/' || count(*) FILTER (WHERE event_id = '$HELD_PAY') FROM processed_events") == 1/1 ]]
}
check "after the window only the held event's row is left" wait_for $((RETENTION + 20)) "inbox emptied" only_held_left
check "the held event's row outlives the window" eq \
  "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$HELD_PAY'")" 1
check "still held" held
DUPS=$(metric 'saga_events_handled_total{outcome="duplicate"}')
payment_succeeded "$HELD_ORDER" "$HELD_INTENT" "$HELD_PAY"
check "its redelivery is a duplicate" wait_for 10 "duplicate counted" dup_counted
check "held once" eq "$(sql "$DB" "SELECT count(*) FROM early_events WHERE order_id = '$HELD_ORDER'")" 1
check "the janitor counts what it deleted" test "$(metric inbox_rows_deleted_total)" -ge $((APPLIED - 1))
# What the window buys: the payment's row is gone now, so a redelivery answers again.
payment_succeeded "$ORDER" "$INTENT" "$PAY"
check "outside the window the event is forgotten (answered again)" wait_for 30 "second rejection" rejections_are 2
finish
