#!/usr/bin/env bash
# W3C trace context end to end (CONTRACT §3, §5) and the CloudEvents binary-mode
# headers: a create with a given traceparent, then kcat shows the same trace id (and its
# flags) with a new span id on its ORDER_CREATED, on the events of the saga it starts
# (the saga simulator continues the trace) and on ORDER_PAID; a cancel's traceparent
# reaches ORDER_CANCELLED; a missing or malformed one starts a trace and is never an
# error; a DLQ copy keeps the traceparent; a log line about an event names its trace id;
# and the CloudEvents Python SDK (tools/cloudevents.sh: no code shared with ours) reads
# every event of these orders as a valid CloudEvent whose attributes match the envelope.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
: "${FLASHSALE_TOOLS_DIR:?FLASHSALE_TOOLS_DIR must name the tools directory of the build}"
: "${FLASHSALE_SOURCE_DIR:?FLASHSALE_SOURCE_DIR must name the source tree}"

DB=$(fresh_database)
PORT=$(free_port)
start_saga_service "$DB" "$PORT" "e2e-trace-$$-$RANDOM" LOG_LEVEL=debug
LOG=$E2E_TMP/service-$PORT.log
# The simulator answers only this test's orders (SKUs trace-sim-*), at once, always paid.
SKU_PREFIX="trace-sim-$$-$RANDOM-"
env KAFKA_BROKERS="$KAFKA_BROKERS" SIM_GROUP_ID="e2e-trace-sim-$$-$RANDOM" \
  SIM_ANSWER_SKU_PREFIX="$SKU_PREFIX" SIM_DECLINE_RATE=0 SIM_NO_ANSWER_RATE=0 \
  SIM_INTENT_DELAY_MS=0 SIM_PAYMENT_DELAY_MS=0 \
  "$FLASHSALE_TOOLS_DIR/flashsale-saga-sim" >"$E2E_TMP/saga-sim.log" 2>&1 &
E2E_PIDS+=($!)

hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
# order_with SKU KEY [curl args…]: a create of one line of SKU; prints the order id (runs
# in a subshell: it fails, and the script with it, unless the answer is 201).
order_with() {
  local sku=$1 key=$2
  shift 2
  req POST /api/v1/orders '{"user_id":"'"$USER_ID"'","currency":"EUR","total_amount":25.00,
    "items":[{"sku_id":"'"$sku"'","quantity":2,"price":12.50}]}' -H "X-Idempotency-Key: $key" "$@"
  [[ $STATUS == 201 ]] || { echo "create failed: $STATUS $BODY" >&2; return 1; }
  json .data.id
}
# traces TOPIC KEY: "EVENT_TYPE TRACEPARENT" for each message of KEY on TOPIC.
traces() {
  kcat -C -q -b "$KAFKA_BROKERS" -t "$1" -e -o beginning -J 2>/dev/null |
    jq -r --arg k "$2" 'select(.key == $k) | (.headers // []) as $h
      | [(.payload | fromjson | .event_type),
         ([range(0; $h | length; 2) | select($h[.] == "traceparent") | $h[. + 1]] | first // "-")]
      | @tsv'
}
trace_of() { traces "$1" "$2" | awk -v t="$3" '$1 == t { print $2; exit }'; }
has_trace_of() { [[ -n $(trace_of "$@") ]]; }
valid_traceparent() { [[ $1 =~ ^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$ ]]; }

USER_ID=$(uuid)
TRACE=$(hex 16)
CALLER_SPAN=$(hex 8)
# Flags 00 (not sampled): carried as they came, so each hop is seen to keep them.
TP="00-$TRACE-$CALLER_SPAN-00"

# --- a create with a traceparent, and the saga it starts
ORDER=$(order_with "${SKU_PREFIX}1" trace-1 -H "traceparent: $TP")
is_uuid() { [[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; }
check "create with traceparent: 201 with an order" is_uuid "$ORDER"
check "the saga runs to PAID" wait_for 60 PAID status_is "$DB" "$ORDER" PAID/
check "ORDER_PAID published" wait_for 20 "ORDER_PAID on order.v1.events" \
  has_trace_of order.v1.events "$ORDER" ORDER_PAID
declare -A SPAN
for pair in order.v1.events:ORDER_CREATED inventory.v1.events:INVENTORY_RESERVED \
  payment.v1.events:PAYMENT_INTENT_CREATED payment.v1.events:PAYMENT_SUCCEEDED \
  order.v1.events:ORDER_PAID; do
  topic=${pair%%:*} type=${pair#*:}
  tp=$(trace_of "$topic" "$ORDER" "$type")
  echo "  $type traceparent: $tp"
  check "$type: a valid traceparent" valid_traceparent "$tp"
  check "$type: the request's trace id" eq "${tp:3:32}" "$TRACE"
  check "$type: the request's flags" eq "${tp:53:2}" 00
  SPAN[$type]=${tp:36:16}
done
check "ORDER_CREATED: a span of ours, not the caller's" \
  test "${SPAN[ORDER_CREATED]}" != "$CALLER_SPAN"
check "every hop a new span" eq "$(printf '%s\n' "${SPAN[@]}" "$CALLER_SPAN" | sort -u | wc -l)" 6
check "the outbox row keeps it" eq "$(sql "$DB" "SELECT substr(traceparent, 4, 32) FROM outbox_events
  WHERE aggregate_id = '$ORDER' AND event_type = 'ORDER_CREATED'")" "$TRACE"

# --- no traceparent, or a malformed one: a new trace, never an error
PLAIN=$(order_with other-sku-1 trace-2)
check "create without traceparent: 201 with an order" is_uuid "$PLAIN"
BAD=$(order_with other-sku-1 trace-3 -H "traceparent: 00-$(hex 16 | tr a-f A-F)-$(hex 8)-01")
check "create with a malformed traceparent: 201 with an order" is_uuid "$BAD"
check "ORDER_CREATED of both published" wait_for 20 "ORDER_CREATED published" \
  has_trace_of order.v1.events "$BAD" ORDER_CREATED
PLAIN_TP=$(trace_of order.v1.events "$PLAIN" ORDER_CREATED)
BAD_TP=$(trace_of order.v1.events "$BAD" ORDER_CREATED)
check "without: a new valid traceparent" valid_traceparent "$PLAIN_TP"
check "malformed: a new valid traceparent" valid_traceparent "$BAD_TP"
check "two new traces" test "${PLAIN_TP:3:32}" != "${BAD_TP:3:32}"
check "a new trace is sampled" eq "${PLAIN_TP:53:2}" 01

# --- a cancel continues its request's trace
CANCEL_TRACE=$(hex 16)
req POST "/api/v1/orders/$PLAIN/cancel" '{"reason":"USER_CANCEL"}' \
  -H "traceparent: 00-$CANCEL_TRACE-$(hex 8)-01"
check "cancel: 200" eq "$STATUS/$(json .data.status)" 200/CANCELLED
check "ORDER_CANCELLED published" wait_for 20 "ORDER_CANCELLED published" \
  has_trace_of order.v1.events "$PLAIN" ORDER_CANCELLED
CANCEL_TP=$(trace_of order.v1.events "$PLAIN" ORDER_CANCELLED)
check "ORDER_CANCELLED: the cancel's trace id" eq "${CANCEL_TP:3:32}" "$CANCEL_TRACE"

# --- a log line about an event names its trace id; a DLQ copy keeps the traceparent
EVENT_TRACE=$(hex 16)
printf '%s\n' "$(envelope INVENTORY_RECOUNTED "$BAD" '"why":"test"')" |
  kcat -P -b "$KAFKA_BROKERS" -t inventory.v1.events -k "$BAD" -H event_type=INVENTORY_RECOUNTED \
    -H "traceparent=00-$EVENT_TRACE-$(hex 8)-01"
logged() { grep -a 'unknown type skipped' "$LOG" | grep -q "\"trace_id\":\"$EVENT_TRACE\""; }
check "an event's log line carries its trace id" wait_for 20 "trace_id in the log" logged
POISON_KEY=$(uuid) POISON_TP="00-$(hex 16)-$(hex 8)-01"
printf 'not json\n' | kcat -P -b "$KAFKA_BROKERS" -t inventory.v1.events -k "$POISON_KEY" \
  -H "traceparent=$POISON_TP"
dlq_kept() {
  [[ $(kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.dlq -e -o beginning -f '%k|%h\n' 2>/dev/null |
    grep "^$POISON_KEY|") == *"traceparent=$POISON_TP"* ]]
}
check "the DLQ copy keeps the traceparent" wait_for 30 "DLQ copy with traceparent" dlq_kept

# --- every event of these orders is a valid CloudEvent (binary mode) for the Python SDK
check "CloudEvents SDK reads every event" bash -c 'kcat -C -q -b "$1" -t order.v1.events -e \
  -o beginning -J 2>/dev/null | bash "$2/tools/cloudevents.sh" python \
  "$2/test/e2e/cloudevents_check.py" "${@:3}"' _ "$KAFKA_BROKERS" "$FLASHSALE_SOURCE_DIR" \
  "$ORDER" "$PLAIN" "$BAD"
check "no crash" no_crash
finish
