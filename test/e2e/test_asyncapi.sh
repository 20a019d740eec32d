#!/usr/bin/env bash
# docs/asyncapi.yaml is true (issue 19, item 1): @asyncapi/parser reads it without an
# error; every example is valid against its message and the consumer's decoder accepts
# it; every counter-example is invalid and the decoder refuses it with the code named
# there, also the running consumer (its DLQ copy's dlq_reason). After a saga run that
# produces all five outgoing types (compensation included: ORDER_PAYMENT_REJECTED), every
# message of these orders on order.v1.events and order.v1.dlq is valid (ajv) against its
# message's payload, key and headers. The CloudEvents and trace headers are checked on
# messages that carry them (ce_specversion); until the producer sends them (branch
# h-trace) the others are checked for event_type only, and the summary says how many.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/asyncapi_lib.sh"
: "${FLASHSALE_TOOLS_DIR:?FLASHSALE_TOOLS_DIR must name the folder of flashsale-decode-event}"
DECODE=$FLASHSALE_TOOLS_DIR/flashsale-decode-event

# --- the document, its examples and counter-examples ------------------------------------
check "the document parses, examples valid, counter-examples invalid" \
  asyncapi_check examples >"$E2E_TMP/examples" 2>"$E2E_TMP/examples.err"
cat "$E2E_TMP/examples.err" >&2
jq -r 'select(.kind == "example" and .topic != "order.v1.dlq") | .value' "$E2E_TMP/examples" >"$E2E_TMP/values"
jq -r 'select(.kind == "counter") | .value' "$E2E_TMP/examples" >"$E2E_TMP/counters"
jq -r 'select(.kind == "counter") | "refused " + .dlq_reason' "$E2E_TMP/examples" >"$E2E_TMP/counter_codes"
check "an example for each of the 11 event types" eq "$(wc -l <"$E2E_TMP/values")" 11
check "counter-examples of each refusal" test "$(wc -l <"$E2E_TMP/counters")" -ge 5
check "the decoder accepts every example" eq "$("$DECODE" <"$E2E_TMP/values" | grep -vc '^accepted ')" 0
check "the decoder refuses every counter-example, for the reason named" \
  diff <("$DECODE" <"$E2E_TMP/counters") "$E2E_TMP/counter_codes"

# --- a saga run: all five outgoing types, and poison -------------------------------------
DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-asyncapi-$$-$RANDOM" ORDER_TTL_RESERVED_S=3
USER_ID=$(uuid)
PAID=$(create_order "$USER_ID" asyncapi-paid)
CANCELLED=$(create_order "$USER_ID" asyncapi-cancelled)
EXPIRED=$(create_order "$USER_ID" asyncapi-expired)
INTENT=$(uuid) LATE_INTENT=$(uuid)
inventory_reserved "$PAID"
intent_created "$PAID" "$INTENT"
check "PAYMENT_PENDING" wait_for 30 PAYMENT_PENDING status_is "$DB" "$PAID" PAYMENT_PENDING/
payment_succeeded "$PAID" "$INTENT"
reservation_failed "$CANCELLED"
inventory_reserved "$EXPIRED"
check "PAID" wait_for 30 PAID status_is "$DB" "$PAID" PAID/
check "CANCELLED" wait_for 30 CANCELLED status_is "$DB" "$CANCELLED" CANCELLED/STOCK_EXHAUSTED
check "EXPIRED" wait_for 30 EXPIRED status_is "$DB" "$EXPIRED" EXPIRED/RESERVATION_TTL
payment_succeeded "$EXPIRED" "$LATE_INTENT" # paid too late: the refund request
# The counter-examples, keyed by one of these orders, each to the DLQ.
while IFS= read -r value; do produce inventory.v1.events "$PAID" INVENTORY_RESERVED "$value"; done <"$E2E_TMP/counters"

for pair in "$PAID ORDER_CREATED" "$PAID ORDER_PAID" "$CANCELLED ORDER_CANCELLED" \
  "$EXPIRED ORDER_EXPIRED" "$EXPIRED ORDER_PAYMENT_REJECTED"; do
  read -r o t <<<"$pair"
  check "$t of $o on order.v1.events" wait_for 30 "$t on the topic" on_topic order.v1.events "$o" "$t"
done
COUNTERS=$(wc -l <"$E2E_TMP/counters")
dlq_records() {
  kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.dlq -e -o beginning -J 2>/dev/null | jq -c --arg k "$PAID" 'select(.key == $k)'
}
all_in_dlq() { [[ $(dlq_records | wc -l) -ge $COUNTERS ]]; }
check "every counter-example in the DLQ" wait_for 30 "$COUNTERS DLQ copies" all_in_dlq
dlq_records >"$E2E_TMP/dlq"
check "the running consumer refuses each for the reason named" diff \
  <(jq -r '.headers as $h | [range(0; $h | length; 2) | select($h[.] == "dlq_reason") | $h[. + 1]][0]
    | "refused " + (split(":")[0])' "$E2E_TMP/dlq") "$E2E_TMP/counter_codes"

kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.events -e -o beginning -J 2>/dev/null |
  jq -c --arg a "$PAID" --arg b "$CANCELLED" --arg c "$EXPIRED" 'select(.key == $a or .key == $b or .key == $c)' \
    >"$E2E_TMP/events"
cat "$E2E_TMP/events" "$E2E_TMP/dlq" >"$E2E_TMP/all"
check "every message of the run is valid against docs/asyncapi.yaml" \
  asyncapi_check messages <"$E2E_TMP/all" >"$E2E_TMP/summary"
cat "$E2E_TMP/summary"
types_seen() { jq -r '.by_type | keys | join(",")' "$E2E_TMP/summary"; }
check "all five outgoing types and the DLQ validated" eq "$(types_seen)" \
  DEAD_LETTER,ORDER_CANCELLED,ORDER_CREATED,ORDER_EXPIRED,ORDER_PAID,ORDER_PAYMENT_REJECTED
check "every message counted" eq "$(jq .checked "$E2E_TMP/summary")" "$(wc -l <"$E2E_TMP/all")"
echo "headers checked against the schema: $(jq .headers_checked "$E2E_TMP/summary"), without CloudEvents headers yet: $(jq .headers_absent "$E2E_TMP/summary")"

# The judge can fail: a tampered ORDER_PAID (a time without milliseconds) is invalid.
tampered() {
  jq -c 'select(.payload | test("ORDER_PAID")) | .payload |= sub("(?<t>\"paid_at\":\"[^.]*)\\.[0-9]{3}Z"; "\(.t)Z")' \
    "$E2E_TMP/events" | asyncapi_check messages >/dev/null
}
tampered_refused() { [[ -n $(grep ORDER_PAID "$E2E_TMP/events") ]] && ! tampered; }
check "a tampered message is refused" tampered_refused
finish
