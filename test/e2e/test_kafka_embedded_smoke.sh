#!/usr/bin/env bash
# KAFKA_MODE=embedded keeps working: the mock-cluster broker (build/tools/flashsale-kafka)
# started as ./dev.sh starts it, the service against it, an order created over HTTP,
# its ORDER_CREATED read back with kcat, and an INVENTORY_RESERVED produced with kcat
# taking the order to RESERVED. The rest of the suite runs on Apache Kafka.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
SUITE_BROKERS=$KAFKA_BROKERS
: "${FLASHSALE_TOOLS_DIR:?FLASHSALE_TOOLS_DIR must name the folder of flashsale-kafka}"

"$FLASHSALE_TOOLS_DIR/flashsale-kafka" >"$E2E_TMP/kafka.out" 2>"$E2E_TMP/kafka.log" </dev/null &
E2E_PIDS+=($!)
embedded_brokers() { grep -q '^KAFKA_BROKERS=' "$E2E_TMP/kafka.out"; }
check "the embedded broker prints its address" wait_for 20 "KAFKA_BROKERS line" embedded_brokers
KAFKA_BROKERS=$(sed -n 's/^KAFKA_BROKERS=//p' "$E2E_TMP/kafka.out")
check "not the suite's broker" test "$KAFKA_BROKERS" != "$SUITE_BROKERS"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-embedded-$$"
ORDER=$(create_order "$(uuid)" embedded-1)
check "create answered with an order id" test -n "$ORDER"
check "ORDER_CREATED on the embedded broker" wait_for 20 "ORDER_CREATED" \
  on_topic order.v1.events "$ORDER" ORDER_CREATED
inventory_reserved "$ORDER"
check "INVENTORY_RESERVED -> RESERVED" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/

finish
