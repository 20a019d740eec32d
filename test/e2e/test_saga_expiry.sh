#!/usr/bin/env bash
# Deadlines with short TTLs: PAYMENT_PENDING past its deadline -> EXPIRED/PAYMENT_TTL
# with ORDER_EXPIRED through the outbox; a payment that succeeds after that ->
# ORDER_PAYMENT_REJECTED (reason ORDER_EXPIRED); RESERVED -> EXPIRED/RESERVATION_TTL;
# CREATED -> CANCELLED/RESERVATION_TIMEOUT. Fired by the live order actors' timers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-expiry-$$-$RANDOM" \
  ORDER_TTL_CREATED_S=8 ORDER_TTL_RESERVED_S=8 ORDER_TTL_PAYMENT_PENDING_S=2
USER_ID=$(uuid)

PENDING=$(create_order "$USER_ID" exp-pending)
RESERVED=$(create_order "$USER_ID" exp-reserved)
CREATED=$(create_order "$USER_ID" exp-created)
INTENT=$(uuid)
inventory_reserved "$PENDING"
inventory_reserved "$RESERVED"
intent_created "$PENDING" "$INTENT"

# --- payment timeout
check "PAYMENT_PENDING reached" wait_for 20 "intent applied" \
  inbox_has "$DB" "$PENDING" PAYMENT_INTENT_CREATED
check "payment timeout -> EXPIRED/PAYMENT_TTL" \
  wait_for 20 EXPIRED status_is "$DB" "$PENDING" EXPIRED/PAYMENT_TTL
check "one ORDER_EXPIRED in the outbox" eq "$(outbox_count "$DB" "$PENDING" ORDER_EXPIRED)" 1
check "ORDER_EXPIRED says PAYMENT_TTL" eq "$(sql "$DB" "SELECT payload::json->'payload'->>'reason' FROM outbox_events WHERE aggregate_id = '$PENDING' AND event_type = 'ORDER_EXPIRED'")" PAYMENT_TTL
check "ORDER_EXPIRED published" wait_for 20 "ORDER_EXPIRED on order.v1.events" \
  on_topic order.v1.events "$PENDING" ORDER_EXPIRED
req GET "/api/v1/orders/$PENDING" ''
check "GET: EXPIRED/PAYMENT_TTL" eq "$(json .data.status)/$(json .data.reason)" EXPIRED/PAYMENT_TTL

# --- a late payment after expiry
LATE_ID=$(uuid)
payment_succeeded "$PENDING" "$INTENT" "$LATE_ID"
check "late payment -> ORDER_PAYMENT_REJECTED" \
  wait_for 20 ORDER_PAYMENT_REJECTED outbox_has "$DB" "$PENDING" ORDER_PAYMENT_REJECTED
REJECTED=$(sql "$DB" "SELECT payload FROM outbox_events WHERE aggregate_id = '$PENDING' AND event_type = 'ORDER_PAYMENT_REJECTED'")
check "rejection reason ORDER_EXPIRED" eq "$(jq -r .payload.reason <<<"$REJECTED")" ORDER_EXPIRED
check "rejection names the intent" eq "$(jq -r .payload.payment_intent_id <<<"$REJECTED")" "$INTENT"
check "late payment recorded in the inbox" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$LATE_ID'")" 1
check "stays EXPIRED" eq "$(order_status "$DB" "$PENDING")" EXPIRED/PAYMENT_TTL
check "no ORDER_PAID" eq "$(outbox_count "$DB" "$PENDING" ORDER_PAID)" 0

# --- the other two deadlines
check "RESERVED deadline -> EXPIRED/RESERVATION_TTL" \
  wait_for 30 EXPIRED status_is "$DB" "$RESERVED" EXPIRED/RESERVATION_TTL
check "CREATED deadline -> CANCELLED/RESERVATION_TIMEOUT" \
  wait_for 30 CANCELLED status_is "$DB" "$CREATED" CANCELLED/RESERVATION_TIMEOUT
check "ORDER_EXPIRED for the reservation" eq "$(outbox_count "$DB" "$RESERVED" ORDER_EXPIRED)" 1
check "ORDER_CANCELLED for the timeout" eq "$(outbox_count "$DB" "$CREATED" ORDER_CANCELLED)" 1
check "nothing left to expire" eq "$(sql "$DB" "SELECT count(*) FROM orders WHERE status IN ('CREATED','RESERVED','PAYMENT_PENDING')")" 0

finish
