#!/usr/bin/env bash
# The saga's sad paths driven over the real broker: stock exhausted, payment failed, the
# user cancelling while the payment is pending, and a payment that succeeds after that
# cancellation (ORDER_PAYMENT_REJECTED, so the Payment service refunds).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-sad-$$-$RANDOM"
USER_ID=$(uuid)

# --- stock exhausted
NO_STOCK=$(create_order "$USER_ID" sad-stock)
reservation_failed "$NO_STOCK"
check "INVENTORY_RESERVATION_FAILED -> CANCELLED/STOCK_EXHAUSTED" \
  wait_for 30 CANCELLED status_is "$DB" "$NO_STOCK" CANCELLED/STOCK_EXHAUSTED
req GET "/api/v1/orders/$NO_STOCK" ''
check "GET: CANCELLED, reason STOCK_EXHAUSTED" eq "$(json .data.status)/$(json .data.reason)" \
  CANCELLED/STOCK_EXHAUSTED
check "ORDER_CANCELLED in the outbox" eq "$(outbox_count "$DB" "$NO_STOCK" ORDER_CANCELLED)" 1
check "ORDER_CANCELLED names the reason" eq "$(sql "$DB" "SELECT payload::json->'payload'->>'reason' FROM outbox_events WHERE aggregate_id = '$NO_STOCK' AND event_type = 'ORDER_CANCELLED'")" STOCK_EXHAUSTED
check "ORDER_CANCELLED published" wait_for 20 "ORDER_CANCELLED on order.v1.events" \
  on_topic order.v1.events "$NO_STOCK" ORDER_CANCELLED

# --- payment failed
DECLINED=$(create_order "$USER_ID" sad-declined)
INTENT=$(uuid)
inventory_reserved "$DECLINED"
intent_created "$DECLINED" "$INTENT"
check "declined: PAYMENT_PENDING" wait_for 30 PAYMENT_PENDING status_is "$DB" "$DECLINED" PAYMENT_PENDING/
payment_failed "$DECLINED" "$INTENT"
check "PAYMENT_FAILED -> CANCELLED/PAYMENT_FAILED" \
  wait_for 20 CANCELLED status_is "$DB" "$DECLINED" CANCELLED/PAYMENT_FAILED
check "declined: one ORDER_CANCELLED" eq "$(outbox_count "$DB" "$DECLINED" ORDER_CANCELLED)" 1
check "declined: three inbox rows" eq "$(inbox_count "$DB" "$DECLINED")" 3

# --- user cancel while the payment is pending, then the payment succeeds anyway
CANCELLED=$(create_order "$USER_ID" sad-cancel)
INTENT2=$(uuid)
inventory_reserved "$CANCELLED"
intent_created "$CANCELLED" "$INTENT2"
check "cancel: PAYMENT_PENDING" wait_for 30 PAYMENT_PENDING status_is "$DB" "$CANCELLED" PAYMENT_PENDING/
req POST "/api/v1/orders/$CANCELLED/cancel" '{"reason":"USER_CANCEL"}' -H "X-User-Id: $USER_ID"
check "cancel while pending: 200 CANCELLED/USER_CANCEL" \
  eq "$STATUS/$(json .data.status)/$(json .data.reason)" 200/CANCELLED/USER_CANCEL
check "cancel: ORDER_CANCELLED in the outbox" eq "$(outbox_count "$DB" "$CANCELLED" ORDER_CANCELLED)" 1
payment_succeeded "$CANCELLED" "$INTENT2"
check "late payment on a cancelled order: ORDER_PAYMENT_REJECTED" \
  wait_for 20 ORDER_PAYMENT_REJECTED outbox_has "$DB" "$CANCELLED" ORDER_PAYMENT_REJECTED
REJECTED=$(sql "$DB" "SELECT payload FROM outbox_events WHERE aggregate_id = '$CANCELLED' AND event_type = 'ORDER_PAYMENT_REJECTED'")
check "rejection names the intent" eq "$(jq -r .payload.payment_intent_id <<<"$REJECTED")" "$INTENT2"
check "rejection reason ORDER_CANCELLED" eq "$(jq -r .payload.reason <<<"$REJECTED")" ORDER_CANCELLED
check "cancelled order stays CANCELLED" eq "$(order_status "$DB" "$CANCELLED")" CANCELLED/USER_CANCEL
check "ORDER_PAYMENT_REJECTED published" wait_for 20 "rejection on order.v1.events" \
  on_topic order.v1.events "$CANCELLED" ORDER_PAYMENT_REJECTED
check "no ORDER_PAID anywhere" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE event_type = 'ORDER_PAID'")" 0

finish
