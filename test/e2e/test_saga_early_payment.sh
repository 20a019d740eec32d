#!/usr/bin/env bash
# A payment that comes before its order can take it (CONTRACT §5, last paragraph; issue
# 11 item 2) is held durably, not parked in memory until a give-up: order A never gets a
# reservation, is CANCELLED at its deadline, and its early PAYMENT_SUCCEEDED is answered
# with ORDER_PAYMENT_REJECTED on order.v1.events; order B's reservation and intent come
# after its early payment was acknowledged, and B reaches PAID. The held rows are gone
# afterwards, and the same event delivered again has no second effect.
#
# EARLY_TTL_S (default 6) is A's CREATED deadline. The service's in-memory parking before
# the fix gave up after 120 x 250 ms = 30 s; to see that defect with an old binary, run
# with EARLY_TTL_S=35 (the payment is then dropped before the deadline; the default
# already fails there on the durable-hold checks and on order B).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

TTL=${EARLY_TTL_S:-6}
DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-early-$$-$RANDOM" \
  ORDER_TTL_CREATED_S="$TTL" ORDER_TTL_RESERVED_S=120 ORDER_TTL_PAYMENT_PENDING_S=120
USER_ID=$(uuid)

held_rows() { sql "$DB" "SELECT count(*) FROM early_events WHERE order_id = '$1'" 2>/dev/null || echo none; }
held_is() { [[ $(held_rows "$1") == "$2" ]]; }
in_flight_zero() { [[ $(metric saga_consumer_in_flight) == 0 ]]; }
in_inbox() { [[ $(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$1'") == 1 ]]; }
duplicates() { metric 'saga_events_handled_total{outcome="duplicate"}'; }
# Only this test's orders exist in its database: other tests' events on the shared topics
# end as not_found, so the duplicate count is ours.
acknowledged() { # DUPLICATES_EXPECTED: both payments durable, the redeliveries handled
  in_inbox "$PAY_A" && in_inbox "$PAY_B" && (($(duplicates) >= $1)) && in_flight_zero
}
# rejection_on_topic ORDER INTENT: ORDER_PAYMENT_REJECTED for that intent on order.v1.events.
rejection_on_topic() {
  topic_lines order.v1.events | grep "^$1|" | grep '"event_type":"ORDER_PAYMENT_REJECTED"' \
    | grep -q "\"payment_intent_id\":\"$2\""
}

A=$(create_order "$USER_ID" early-a)
B=$(create_order "$USER_ID" early-b)
INTENT_A=$(uuid) INTENT_B=$(uuid) PAY_A=$(uuid) PAY_B=$(uuid)
VALUE_A=$(envelope PAYMENT_SUCCEEDED "$A" '"payment_intent_id":"'"$INTENT_A"'","gateway_event_id":"g-a","paid_at":"'"$(now_rfc3339)"'"' "$PAY_A")
# A's payment twice (a redelivery while it is held), B's once, both before anything else.
produce payment.v1.events "$A" PAYMENT_SUCCEEDED "$VALUE_A" "$VALUE_A"
payment_succeeded "$B" "$INTENT_B" "$PAY_B"

# --- held durably, and acknowledged (the Kafka offset moves on) long before any deadline
check "early payments acknowledged" wait_for 40 "both payments durable, the redelivery handled" acknowledged 1
check "A's payment held once" eq "$(held_rows "$A")" 1
check "B's payment held" eq "$(held_rows "$B")" 1
check "A still CREATED" eq "$(order_status "$DB" "$A")" CREATED/
check "held answers counted" eq "$(metric 'saga_events_handled_total{outcome="held"}')" 2
check "the redelivery is a duplicate" eq "$(metric 'saga_events_handled_total{outcome="duplicate"}')" 1
check "one inbox row for A's payment" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$PAY_A'")" 1

# --- B: reservation and intent come after its payment was acknowledged -> PAID
inventory_reserved "$B"
intent_created "$B" "$INTENT_B"
check "B: held payment applies once its intent did -> PAID" wait_for 30 PAID status_is "$DB" "$B" PAID/
check "B: one ORDER_PAID" eq "$(outbox_count "$DB" "$B" ORDER_PAID)" 1
check "B: no refund asked" eq "$(outbox_count "$DB" "$B" ORDER_PAYMENT_REJECTED)" 0
check "B: held row released" eq "$(held_rows "$B")" 0
check "B: ORDER_PAID published" wait_for 20 "ORDER_PAID on order.v1.events" \
  on_topic order.v1.events "$B" ORDER_PAID

# --- A: no reservation ever; at its deadline CANCELLED and the payment answered
check "A: CANCELLED/RESERVATION_TIMEOUT at its deadline" \
  wait_for $((TTL + 30)) CANCELLED status_is "$DB" "$A" CANCELLED/RESERVATION_TIMEOUT
check "A: ORDER_PAYMENT_REJECTED for its intent on order.v1.events" \
  wait_for 30 "ORDER_PAYMENT_REJECTED on order.v1.events" rejection_on_topic "$A" "$INTENT_A"
REJECTED=$(sql "$DB" "SELECT payload FROM outbox_events WHERE aggregate_id = '$A' AND event_type = 'ORDER_PAYMENT_REJECTED'")
check "A: rejection reason ORDER_CANCELLED" eq "$(jq -r .payload.reason <<<"$REJECTED")" ORDER_CANCELLED
check "A: rejection names the order" eq "$(jq -r .payload.order_id <<<"$REJECTED")" "$A"
check "A: held row released" wait_for 10 "no held row" held_is "$A" 0

# --- the same event once more, after it was answered: no second effect
produce payment.v1.events "$A" PAYMENT_SUCCEEDED "$VALUE_A"
check "redelivery handled as a duplicate" wait_for 20 "a second duplicate" acknowledged 2
check "A: still one ORDER_PAYMENT_REJECTED" eq "$(outbox_count "$DB" "$A" ORDER_PAYMENT_REJECTED)" 1
check "A: nothing held again" eq "$(held_rows "$A")" 0
check "A: still CANCELLED" eq "$(order_status "$DB" "$A")" CANCELLED/RESERVATION_TIMEOUT

finish
