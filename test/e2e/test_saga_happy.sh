#!/usr/bin/env bash
# The saga's happy path over the real broker: INVENTORY_RESERVED -> RESERVED,
# PAYMENT_INTENT_CREATED -> PAYMENT_PENDING, PAYMENT_SUCCEEDED -> PAID, each event in
# the inbox once and ORDER_PAID in the outbox and on order.v1.events. Then the same
# event delivered five times has one effect, INVENTORY_RELEASED is acknowledged without
# one, and an intent that overtakes its reservation (other topic) still applies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-happy-$$-$RANDOM"
USER_ID=$(uuid)

# --- happy path
ORDER=$(create_order "$USER_ID" happy-1)
INTENT=$(uuid)
inventory_reserved "$ORDER"
check "INVENTORY_RESERVED -> RESERVED" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/
intent_created "$ORDER" "$INTENT"
check "PAYMENT_INTENT_CREATED -> PAYMENT_PENDING" \
  wait_for 20 PAYMENT_PENDING status_is "$DB" "$ORDER" PAYMENT_PENDING/
payment_succeeded "$ORDER" "$INTENT"
check "PAYMENT_SUCCEEDED -> PAID" wait_for 20 PAID status_is "$DB" "$ORDER" PAID/
req GET "/api/v1/orders/$ORDER" ''
check "GET says PAID" eq "$STATUS/$(json .data.status)" 200/PAID
check "no deadline once PAID" eq "$(json '.data | has("expired_at")')" false
check "three inbox rows" eq "$(inbox_count "$DB" "$ORDER")" 3
check "one ORDER_PAID in the outbox" eq "$(outbox_count "$DB" "$ORDER" ORDER_PAID)" 1
check "ORDER_PAID published" wait_for 20 "ORDER_PAID on order.v1.events" \
  on_topic order.v1.events "$ORDER" ORDER_PAID

# --- INVENTORY_RELEASED: known, acknowledged, no transition
produce inventory.v1.events "$ORDER" INVENTORY_RELEASED "$(envelope INVENTORY_RELEASED "$ORDER" \
  '"items":[{"item_id":"sku-1","quantity":2}],"reason":"TEST"')"
released_handled() { [[ $(metric 'saga_events_consumed_total{event_type="INVENTORY_RELEASED"}') -ge 1 ]]; }
check "INVENTORY_RELEASED consumed" wait_for 20 "INVENTORY_RELEASED consumed" released_handled
check "still PAID" eq "$(order_status "$DB" "$ORDER")" PAID/

# --- the same event five times: one transition, one inbox row
DUP=$(create_order "$USER_ID" dup-1)
EVENT_ID=$(uuid)
VALUE=$(envelope INVENTORY_RESERVED "$DUP" '"items":[{"item_id":"sku-1","quantity":2}],"reservation_expires_at":"'"$(now_rfc3339)"'"' "$EVENT_ID")
# The group read the shared topics from the beginning long ago: counts from here on are
# this test's.
RESERVED_BEFORE=$(metric 'saga_events_consumed_total{event_type="INVENTORY_RESERVED"}')
produce inventory.v1.events "$DUP" INVENTORY_RESERVED "$VALUE" "$VALUE" "$VALUE" "$VALUE" "$VALUE"
check "duplicate: RESERVED" wait_for 30 RESERVED status_is "$DB" "$DUP" RESERVED/
all_five() {
  (($(metric 'saga_events_consumed_total{event_type="INVENTORY_RESERVED"}') >= RESERVED_BEFORE + 5))
}
check "all five consumed" wait_for 20 "five copies consumed" all_five
in_flight_zero() { [[ $(metric saga_consumer_in_flight) == 0 ]]; }
check "all five handled" wait_for 20 "nothing in flight" in_flight_zero
check "duplicate: one inbox row" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$EVENT_ID'")" 1
check "duplicate: still RESERVED" eq "$(order_status "$DB" "$DUP")" RESERVED/
# Five PAYMENT_SUCCEEDED with one id after the order is pending: one ORDER_PAID.
INTENT2=$(uuid)
intent_created "$DUP" "$INTENT2"
check "duplicate: PAYMENT_PENDING" wait_for 20 PAYMENT_PENDING status_is "$DB" "$DUP" PAYMENT_PENDING/
PAY_ID=$(uuid)
PAID_BEFORE=$(metric 'saga_events_consumed_total{event_type="PAYMENT_SUCCEEDED"}')
PAY=$(envelope PAYMENT_SUCCEEDED "$DUP" '"payment_intent_id":"'"$INTENT2"'","gateway_event_id":"g-1","paid_at":"'"$(now_rfc3339)"'"' "$PAY_ID")
produce payment.v1.events "$DUP" PAYMENT_SUCCEEDED "$PAY" "$PAY" "$PAY" "$PAY" "$PAY"
check "duplicate: PAID" wait_for 20 PAID status_is "$DB" "$DUP" PAID/
five_paid() {
  (($(metric 'saga_events_consumed_total{event_type="PAYMENT_SUCCEEDED"}') >= PAID_BEFORE + 5))
}
check "all five payments consumed" wait_for 20 "five copies consumed" five_paid
check "all handled" wait_for 20 "nothing in flight" in_flight_zero
check "duplicate payment: one ORDER_PAID" eq "$(outbox_count "$DB" "$DUP" ORDER_PAID)" 1
check "duplicate payment: no refund asked" eq "$(outbox_count "$DB" "$DUP" ORDER_PAYMENT_REJECTED)" 0
check "duplicate payment: one inbox row" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$PAY_ID'")" 1

# --- an intent that overtakes its reservation is held for it instead of being lost
EARLY=$(create_order "$USER_ID" early-1)
INTENT3=$(uuid)
HELD_BEFORE=$(metric 'saga_events_handled_total{outcome="held"}')
intent_created "$EARLY" "$INTENT3"
held() { (($(metric 'saga_events_handled_total{outcome="held"}') > HELD_BEFORE)); }
check "early intent held" wait_for 20 "an event held" held
inventory_reserved "$EARLY"
check "early intent applies after the reservation" \
  wait_for 20 PAYMENT_PENDING status_is "$DB" "$EARLY" PAYMENT_PENDING/

finish
