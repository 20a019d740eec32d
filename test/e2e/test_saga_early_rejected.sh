#!/usr/bin/env bash
# A held event (early_events, migration 000008) whose write the database rejects when it
# is replayed leaves early_events and is copied to order.v1.dlq with
# dlq_reason=rejected_by_database, like a rejected event straight from Kafka
# (test_saga_db_rejected.sh). Here: a PAYMENT_SUCCEEDED ahead of its order is held; a
# CHECK constraint this test adds refuses that order's ORDER_PAID outbox row (SQLSTATE
# 23514); the reservation and the intent bring the order to PAYMENT_PENDING, where the
# held payment is replayed and rejected. Before, its row stayed forever and was replayed
# (and rejected) again at every transition, with no DLQ copy.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-early-rejected-$$-$RANDOM" # default deadlines
USER_ID=$(uuid)
ORDER=$(create_order "$USER_ID" early-rejected-1)
OTHER=$(create_order "$USER_ID" early-rejected-2)
INTENT=$(uuid) OTHER_INTENT=$(uuid) PAY=$(uuid) OTHER_PAY=$(uuid)

held_rows() { sql "$DB" "SELECT count(*) FROM early_events WHERE order_id = '$1'"; }
held_is() { [[ $(held_rows "$1") == "$2" ]]; }
payment_succeeded "$ORDER" "$INTENT" "$PAY"
payment_succeeded "$OTHER" "$OTHER_INTENT" "$OTHER_PAY"
check "the early payment is held" wait_for 30 "early_events row of $ORDER" held_is "$ORDER" 1
check "the other early payment is held" wait_for 30 "early_events row of $OTHER" held_is "$OTHER" 1

sql "$DB" "ALTER TABLE outbox_events ADD CONSTRAINT e2e_rejects_one_payment
  CHECK (aggregate_id <> '$ORDER' OR event_type <> 'ORDER_PAID') NOT VALID" >/dev/null
for o in "$ORDER" "$OTHER"; do inventory_reserved "$o"; done
intent_created "$ORDER" "$INTENT"
intent_created "$OTHER" "$OTHER_INTENT"

check "the other order's held payment applies" wait_for 30 PAID status_is "$DB" "$OTHER" PAID/
dlq_copy() { topic_lines order.v1.dlq | grep -F "$PAY"; }
check "the rejected held payment is copied to the DLQ" wait_for 30 "DLQ copy of $PAY" dlq_copy
COPY=$(dlq_copy || true)
echo "DLQ copy: ${COPY:0:300}"
check "reason rejected_by_database" grep -q "dlq_reason=rejected_by_database" <<<"$COPY"
check "source_topic header" grep -q "source_topic=payment.v1.events" <<<"$COPY"
check "original event_type header" grep -q "event_type=PAYMENT_SUCCEEDED" <<<"$COPY"
check "key is the order" eq "${COPY%%|*}" "$ORDER"
check "its row leaves early_events" wait_for 30 "no early_events row of $ORDER" held_is "$ORDER" 0
check "nothing of it applied" eq "$(order_status "$DB" "$ORDER")" PAYMENT_PENDING/
check "no ORDER_PAID for it" eq "$(outbox_count "$DB" "$ORDER" ORDER_PAID)" 0
check "the other order's row is gone" held_is "$OTHER" 0

# A later transition of the order replays nothing more: one DLQ copy, not one a replay.
payment_failed "$ORDER" "$INTENT"
check "the order's next event applies" wait_for 30 "not PAYMENT_PENDING" \
  bash -c "[[ \$(psql -qtAX '$DB' -c \"SELECT status FROM orders WHERE id = '$ORDER'\") != PAYMENT_PENDING ]]"
check "exactly one DLQ copy" eq "$(dlq_copy | wc -l)" 1
check "the log names it" grep -q "held saga event to DLQ" "$E2E_TMP"/service-*.log

finish
