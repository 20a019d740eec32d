#!/usr/bin/env bash
# The service is killed with SIGKILL in the middle of sagas (events in flight, offsets
# not committed, order actors and their timers gone) and restarted with the same
# consumer group: redelivered events take effect at most once, deadlines that passed
# while it was down are applied by the sweeper, and no order makes a transition twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
GROUP="e2e-restart-$$-$RANDOM"
TTLS=(ORDER_TTL_CREATED_S=6 ORDER_TTL_RESERVED_S=6 ORDER_TTL_PAYMENT_PENDING_S=6)
start_saga_service "$DB" "$(free_port)" "$GROUP" "${TTLS[@]}"
FIRST_PID=$SERVICE_PID
USER_ID=$(uuid)

declare -A INTENT PAYMENT
PAYING=() PENDING=() RESERVED=() CREATED=()
for i in 1 2 3; do PAYING+=("$(create_order "$USER_ID" "pay-$i")"); done
for i in 1 2; do PENDING+=("$(create_order "$USER_ID" "pending-$i")"); done
for i in 1 2; do RESERVED+=("$(create_order "$USER_ID" "reserved-$i")"); done
for i in 1 2; do CREATED+=("$(create_order "$USER_ID" "created-$i")"); done

for o in "${PAYING[@]}" "${PENDING[@]}" "${RESERVED[@]}"; do inventory_reserved "$o"; done
for o in "${PAYING[@]}" "${PENDING[@]}"; do
  INTENT[$o]=$(uuid)
  intent_created "$o" "${INTENT[$o]}"
done
for o in "${PAYING[@]}" "${PENDING[@]}"; do
  check "before the kill: PAYMENT_PENDING" wait_for 30 PAYMENT_PENDING status_is "$DB" "$o" PAYMENT_PENDING/
done
for o in "${RESERVED[@]}"; do
  check "before the kill: RESERVED" wait_for 10 RESERVED status_is "$DB" "$o" RESERVED/
done

# Payments on their way, then the kill: some may be applied, some not, offsets lag.
for o in "${PAYING[@]}"; do
  PAYMENT[$o]=$(envelope PAYMENT_SUCCEEDED "$o" '"payment_intent_id":"'"${INTENT[$o]}"'","gateway_event_id":"'"$(uuid)"'","paid_at":"'"$(now_rfc3339)"'"')
  produce payment.v1.events "$o" PAYMENT_SUCCEEDED "${PAYMENT[$o]}"
done
any_paid() { [[ $(sql "$DB" "SELECT count(*) FROM orders WHERE status = 'PAID'") -ge 1 ]]; }
check "a payment applied before the kill" wait_for 20 "a payment applied" any_paid
kill -KILL "$FIRST_PID"
wait "$FIRST_PID" 2>/dev/null || true
# The Payment service's producer retried too: the same messages once more.
for o in "${PAYING[@]}"; do produce payment.v1.events "$o" PAYMENT_SUCCEEDED "${PAYMENT[$o]}"; done

# The same group: the dead member keeps its partitions until its session times out
# (10 s), then the new one resumes from the committed offsets.
start_saga_service "$DB" "$(free_port)" "$GROUP" "${TTLS[@]}"

terminal() { [[ $(order_status "$DB" "$1") =~ ^(PAID|CANCELLED|EXPIRED)/ ]]; }
for o in "${PAYING[@]}" "${PENDING[@]}" "${RESERVED[@]}" "${CREATED[@]}"; do
  check "after the restart: terminal" wait_for 60 "order $o terminal" terminal "$o"
done
for o in "${PENDING[@]}"; do
  check "pending: EXPIRED/PAYMENT_TTL" eq "$(order_status "$DB" "$o")" EXPIRED/PAYMENT_TTL
done
for o in "${RESERVED[@]}"; do
  check "reserved: EXPIRED/RESERVATION_TTL" eq "$(order_status "$DB" "$o")" EXPIRED/RESERVATION_TTL
done
for o in "${CREATED[@]}"; do
  check "created: CANCELLED/RESERVATION_TIMEOUT" eq "$(order_status "$DB" "$o")" CANCELLED/RESERVATION_TIMEOUT
done
# A payment applied before its deadline makes it PAID; one that arrived after the
# deadline (the service was down) finds it EXPIRED and asks for a refund instead.
for o in "${PAYING[@]}"; do
  case $(order_status "$DB" "$o") in
  PAID/) check "paid: one ORDER_PAID" eq "$(outbox_count "$DB" "$o" ORDER_PAID)" 1 ;;
  EXPIRED/PAYMENT_TTL)
    check "expired before its payment: refund asked" \
      wait_for 20 ORDER_PAYMENT_REJECTED outbox_has "$DB" "$o" ORDER_PAYMENT_REJECTED ;;
  *) check "paying order PAID or EXPIRED, not $(order_status "$DB" "$o")" false ;;
  esac
  check "one payment in the inbox" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE order_id = '$o' AND event_type = 'PAYMENT_SUCCEEDED'")" 1
done

# No transition twice: per order at most one event of each type, one terminal event,
# and one inbox row per event type.
check "no order event twice" eq "$(sql "$DB" "SELECT count(*) FROM (SELECT aggregate_id, event_type FROM outbox_events GROUP BY 1, 2 HAVING count(*) > 1) d")" 0
check "one terminal event per order" eq "$(sql "$DB" "SELECT count(*) FROM (SELECT aggregate_id FROM outbox_events WHERE event_type IN ('ORDER_PAID','ORDER_CANCELLED','ORDER_EXPIRED') GROUP BY 1 HAVING count(*) <> 1) d")" 0
check "no inbox type twice per order" eq "$(sql "$DB" "SELECT count(*) FROM (SELECT order_id, event_type FROM processed_events GROUP BY 1, 2 HAVING count(*) > 1) d")" 0
applied_by_sweeper() { (($(metric 'expiry_requests_total{outcome="applied"}') + $(metric 'expiry_requests_total{outcome="ignored"}') > 0)); }
check "the sweeper found the orphaned deadlines" applied_by_sweeper

finish
