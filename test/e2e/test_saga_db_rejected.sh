#!/usr/bin/env bash
# A saga event whose write the database rejects (a deterministic error: here a CHECK
# constraint this test adds so that PostgreSQL refuses exactly that event's inbox row,
# SQLSTATE 23514) goes to order.v1.dlq with dlq_reason and the source headers (CONTRACT
# §5, issue 11 item 6); nothing of it is applied, and the events behind it, of the same
# order and of others, go on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-db-rejected-$$-$RANDOM"
USER_ID=$(uuid)
ORDER=$(create_order "$USER_ID" rejected-1)
OTHER=$(create_order "$USER_ID" rejected-2)
BAD_EVENT=$(uuid)
sql "$DB" "ALTER TABLE processed_events ADD CONSTRAINT e2e_rejects_one_event
  CHECK (event_id <> '$BAD_EVENT')" >/dev/null

REJECTED_BEFORE=$(metric 'saga_events_handled_total{outcome="rejected"}')
inventory_reserved "$ORDER" "$BAD_EVENT"
inventory_reserved "$OTHER"

dlq_copy() { topic_lines order.v1.dlq | grep -F "$BAD_EVENT"; }
check "the rejected event is copied to the DLQ" wait_for 30 "DLQ copy of $BAD_EVENT" dlq_copy
COPY=$(dlq_copy || true)
echo "DLQ copy: ${COPY:0:300}"
check "exactly one DLQ copy" eq "$(dlq_copy | wc -l)" 1
check "reason rejected_by_database" grep -q "dlq_reason=rejected_by_database" <<<"$COPY"
check "source_topic header" grep -q "source_topic=inventory.v1.events" <<<"$COPY"
check "source_partition header" grep -Eq "source_partition=[0-9]+" <<<"$COPY"
check "source_offset header" grep -Eq "source_offset=[0-9]+" <<<"$COPY"
check "original header kept" grep -q "event_type=INVENTORY_RESERVED" <<<"$COPY"
check "key kept" eq "${COPY%%|*}" "$ORDER"
rejected_counted() {
  (($(metric 'saga_events_handled_total{outcome="rejected"}') > REJECTED_BEFORE))
}
check "counted as rejected" wait_for 10 "rejected counted" rejected_counted
check "DLQ counted" test "$(metric saga_events_dlq_total)" -ge 1

check "the other order's event applies" wait_for 30 RESERVED status_is "$DB" "$OTHER" RESERVED/
check "nothing of the rejected event applied" eq "$(order_status "$DB" "$ORDER")" CREATED/
check "no inbox row for it" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$BAD_EVENT'")" 0
# The order's next event goes ahead: consumption of its partition did not stop.
inventory_reserved "$ORDER"
check "the order's next event applies" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/
check "the log names the rejection" grep -q "saga event rejected by the database" "$E2E_TMP"/service-*.log

finish
