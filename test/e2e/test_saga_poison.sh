#!/usr/bin/env bash
# Poison and strangers on inventory.v1.events, all keyed by one order so they share a
# partition and come before a valid event: a non-JSON value and an invalid order id go
# to order.v1.dlq with dlq_reason, source_topic, source_partition and source_offset; an
# unknown event type is skipped and counted; the valid event behind them still applies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-poison-$$-$RANDOM"
USER_ID=$(uuid)
ORDER=$(create_order "$USER_ID" poison-1)
MARK="poison-$$-$RANDOM" # finds this test's messages on the shared topics

UNKNOWN_BEFORE=$(metric saga_events_unknown_type_total)
produce inventory.v1.events "$ORDER" INVENTORY_RESERVED "not json at all $MARK"
produce inventory.v1.events "$ORDER" INVENTORY_RESTOCKED \
  "$(envelope INVENTORY_RESTOCKED "$ORDER" '"note":"'"$MARK"'"')"
produce inventory.v1.events "$ORDER" INVENTORY_RESERVED \
  "$(envelope INVENTORY_RESERVED "not-an-order-$MARK" '"items":[]')"
inventory_reserved "$ORDER"

check "the valid event behind the poison applies" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/
unknown_counted() { (($(metric saga_events_unknown_type_total) > UNKNOWN_BEFORE)); }
check "unknown type counted" wait_for 20 "unknown type counted" unknown_counted

dlq_lines() { topic_lines order.v1.dlq | grep -F "$MARK"; }
two_in_dlq() { [[ $(dlq_lines | wc -l) -ge 2 ]]; }
check "two messages in the DLQ" wait_for 20 "two DLQ messages" two_in_dlq
NOT_JSON=$(dlq_lines | grep -F "not json at all" || true)
BAD_ID=$(dlq_lines | grep -F "not-an-order" || true)
check "exactly two DLQ copies" eq "$(dlq_lines | wc -l)" 2
check "unknown type not in the DLQ" eq "$(dlq_lines | grep -c INVENTORY_RESTOCKED)" 0
check "non-JSON: reason not_json" grep -q "dlq_reason=not_json" <<<"$NOT_JSON"
check "invalid order id: reason invalid_order_id" grep -q "dlq_reason=invalid_order_id" <<<"$BAD_ID"
for line in "$NOT_JSON" "$BAD_ID"; do
  check "source_topic header" grep -q "source_topic=inventory.v1.events" <<<"$line"
  check "source_partition header" grep -Eq "source_partition=[0-9]+" <<<"$line"
  check "source_offset header" grep -Eq "source_offset=[0-9]+" <<<"$line"
  check "key kept" eq "${line%%|*}" "$ORDER"
done

# The headers point at the original messages.
SOURCE=$(kcat -C -q -b "$KAFKA_BROKERS" -t inventory.v1.events -e -o beginning -f '%k|%p|%o|%s\n' | grep -F "not json at all $MARK")
IFS='|' read -r _ SRC_PARTITION SRC_OFFSET _ <<<"$SOURCE"
check "source_partition matches" grep -q "source_partition=$SRC_PARTITION," <<<"$NOT_JSON"
check "source_offset matches" grep -Eq "source_offset=$SRC_OFFSET(\||,)" <<<"$NOT_JSON"
check "original header kept" grep -q "event_type=INVENTORY_RESERVED" <<<"$NOT_JSON"

# Consumption goes on: a later event of the same order applies too.
INTENT=$(uuid)
intent_created "$ORDER" "$INTENT"
check "consumption goes on" wait_for 20 PAYMENT_PENDING status_is "$DB" "$ORDER" PAYMENT_PENDING/
dlq_counted() { (($(metric saga_events_dlq_total) >= 2)); }
check "DLQ counted" dlq_counted

finish
