#!/usr/bin/env bash
# kafkajs 2.2.4 (npm), a client that shares no code with librdkafka, plays the Inventory
# service against Apache Kafka (kafkajs_inventory.js): it consumes order.v1.events in a
# group of its own and answers each ORDER_CREATED with INVENTORY_RESERVED from an
# idempotent producer. Orders created over HTTP reach RESERVED; the broker's log shows
# the reservations written with a producer id (idempotence on), which the embedded
# broker could not give (issue 9: KafkaJSBrokerNotFound).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"

KAFKAJS_VERSION=2.2.4
# The suite's broker when it is Apache Kafka, else one of this test's own.
if [[ ${KAFKA_MODE:-} == apache && -n ${KAFKA_DIR:-} ]]; then
  CLUSTER_DIR=$KAFKA_DIR
else
  own_cluster 1
fi

# kafkajs from npm into the cache, once: a later run downloads nothing.
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "node and npm are needed (./dev.sh installs them)" >&2; exit 1; }
NODE_CACHE=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/node
installed_version() { jq -r .version "$NODE_CACHE/node_modules/kafkajs/package.json" 2>/dev/null || true; }
if [[ $(installed_version) != "$KAFKAJS_VERSION" ]]; then
  echo "installing kafkajs $KAFKAJS_VERSION into $NODE_CACHE (once)"
  rm -rf "$NODE_CACHE.tmp"
  mkdir -p "$NODE_CACHE.tmp"
  npm install --prefix "$NODE_CACHE.tmp" --no-audit --no-fund --no-save --loglevel=error \
    "kafkajs@$KAFKAJS_VERSION" >&2
  rm -rf "$NODE_CACHE"
  mv "$NODE_CACHE.tmp" "$NODE_CACHE"
fi
check "kafkajs $KAFKAJS_VERSION in the cache" eq "$(installed_version)" "$KAFKAJS_VERSION"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-kafkajs-$$"
USER_ID=$(uuid)
INV_LOG=$E2E_TMP/inventory.log
env KAFKA_BROKERS="$KAFKA_BROKERS" INVENTORY_GROUP="e2e-kafkajs-inventory-$$" INVENTORY_USER_ID="$USER_ID" \
  NODE_PATH="$NODE_CACHE/node_modules" node "$(dirname "$0")/kafkajs_inventory.js" >"$INV_LOG" 2>&1 &
INV_PID=$!
E2E_PIDS+=($!)
joined() { grep -q '"msg":"joined"' "$INV_LOG"; }
check "kafkajs joins its group" wait_for 60 "kafkajs group join" joined

ORDERS=()
for i in $(seq 20); do ORDERS+=("$(create_order "$USER_ID" "kafkajs-$i")"); done
check "20 orders created" eq "${#ORDERS[@]}" 20
for o in "${ORDERS[@]}"; do
  check "RESERVED through kafkajs: $o" wait_for 60 RESERVED status_is "$DB" "$o" RESERVED/
done
IN_LIST=$(printf "'%s'," "${ORDERS[@]}")
IN_LIST=${IN_LIST%,}
check "one INVENTORY_RESERVED in the inbox per order" eq "$(sql "$DB" "SELECT count(*) || '/' || count(DISTINCT order_id)
  FROM processed_events WHERE event_type = 'INVENTORY_RESERVED' AND order_id IN ($IN_LIST)")" 20/20
check "kafkajs answered each order" eq "$(grep '"msg":"reserved"' "$INV_LOG" | jq -r .order_id | sort -u |
  comm -12 - <(printf '%s\n' "${ORDERS[@]}" | sort) | wc -l)" 20
check "kafkajs: no failure, no crash" eq "$(grep -cE '"msg":"(send_failed|crash|failed)"|KafkaJS[A-Za-z]*Error|BrokerNotFound' "$INV_LOG")" 0
check "kafkajs: headers and keys as documented" eq "$(grep -cE '"msg":"(header_mismatch|key_mismatch|not_json)"' "$INV_LOG")" 0
check "kafkajs still running" kill -0 "$INV_PID"

# What kafkajs wrote, as another client reads it: the envelope of the contract.
topic_lines inventory.v1.events | grep -F -f <(printf '%s|\n' "${ORDERS[@]}") >"$E2E_TMP/reservations"
check "20 reservations on inventory.v1.events" eq "$(wc -l <"$E2E_TMP/reservations")" 20
check "header event_type=INVENTORY_RESERVED" eq "$(grep -c '|event_type=INVENTORY_RESERVED|' "$E2E_TMP/reservations")" 20
valid_envelopes() {
  cut -d'|' -f3- "$E2E_TMP/reservations" | jq -e -s 'all(.[];
    (.event_id | test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))
    and .event_type == "INVENTORY_RESERVED" and .schema_version == 1
    and (.occurred_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))
    and (.payload.items | length) == 1 and .payload.items[0].item_id == "sku-1"
    and (.payload.reservation_expires_at | endswith("Z")))' >/dev/null
}
check "the envelope of docs/API.md" valid_envelopes

# Idempotence on: in the broker's own log (Kafka's DumpLogSegments), the batches of
# these orders' reservations carry a producer id; a plain producer writes producerId -1.
producer_ids() { # ORDERS_FILE: the producer id of each record of those orders
  local segs
  segs=$(printf '%s,' "$CLUSTER_DIR"/node1/data/inventory.v1.events-*/*.log)
  "$KAFKA_CTL" tool kafka-dump-log --print-data-log --files "${segs%,}" 2>/dev/null |
    awk 'NR == FNR { mine[$1] = 1; next }
      /^baseOffset:/ { for (i = 1; i < NF; i++) if ($i == "producerId:") pid = $(i + 1) }
      /^\| offset:/ { for (i = 1; i < NF; i++) if ($i == "key:" && ($(i + 1) in mine)) print pid }' "$1" -
}
# The control: one message of a plain producer (kcat) for one of the orders.
produce inventory.v1.events "${ORDERS[0]}" INVENTORY_RELEASED "$(envelope INVENTORY_RELEASED "${ORDERS[0]}" \
  '"items":[{"item_id":"sku-1","quantity":2}],"reason":"TEST"')"
printf '%s\n' "${ORDERS[@]}" >"$E2E_TMP/orders"
PIDS_SEEN=$(producer_ids "$E2E_TMP/orders" | sort | uniq -c)
echo "producer ids of the reservations: $(tr -s ' \n' ' ' <<<"$PIDS_SEEN")"
check "21 records of these orders in the broker's log" eq "$(awk '{ s += $1 } END { print s + 0 }' <<<"$PIDS_SEEN")" 21
check "kcat's control record: producerId -1" grep -qxE ' *1 -1' <<<"$PIDS_SEEN"
check "the 20 reservations: one idempotent producer" grep -qxE ' *20 [0-9]+' <<<"$PIDS_SEEN"

kill -TERM "$INV_PID"
stopped() { grep -q '"msg":"stopped"' "$INV_LOG"; }
check "kafkajs leaves its group on SIGTERM" wait_for 30 "kafkajs stopped" stopped
finish
