#!/usr/bin/env bash
# One broker of three SIGKILLed under create load (Apache Kafka, replication factor 3,
# min.insync.replicas 2, a cluster of this test's own): every order answered 201 is in
# the database, every committed event reaches order.v1.events (the whole topic read
# with kcat and compared with the outbox), the relays carry on through the failover
# and drain the outbox, and the broker restarted on its data rejoins: three brokers in
# the metadata, every partition's ISR back to three (Kafka's own kafka-topics agrees).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"

own_cluster 3
check "three brokers" eq "$(broker_count)" 3
check "replication factor 3, min.insync.replicas 2" eval \
  '"$KAFKA_CTL" tool kafka-topics --bootstrap-server "$KAFKA_BROKERS" --describe --topic order.v1.events |
   grep -q "ReplicationFactor: 3.*min.insync.replicas=2"'

DB=$(fresh_database)
PORT=$(free_port)
start_service "$DB" "$PORT" KAFKA_GROUP_ID="e2e-kafka-kill-$$" OUTBOX_RELAYS=4
BASE="http://127.0.0.1:$PORT"
wait_for 30 "readyz 200" ready

# --- the load: WORKERS curl loops, each a create every PACE seconds, until told to stop
WORKERS=4 PACE=0.05
LOAD=$E2E_TMP/load
mkdir -p "$LOAD"
worker() { # W: one line per request: "<http status> <epoch ms> <body>"
  local w=$1 i=0
  while [[ ! -e $LOAD/stop ]] && ((i < 1000)); do
    i=$((i + 1))
    curl -s --max-time 10 -X POST -H 'Content-Type: application/json' \
      -H "X-Idempotency-Key: kill-$w-$i" -w ' %{http_code}\n' \
      --data-binary '{"user_id":"'"$(uuid)"'","currency":"EUR","total_amount":25.00,"items":[{"sku_id":"sku-'$i'","quantity":2,"price":12.50}]}' \
      "$BASE/api/v1/orders" >>"$LOAD/out-$w" 2>/dev/null || true
    sleep "$PACE"
  done
}
answered() { cat "$LOAD"/out-* 2>/dev/null | grep -c ' 201$' || true; }
at_least() { (($(answered) >= $1)); }
LOAD_PIDS=()
for ((w = 1; w <= WORKERS; w++)); do
  worker "$w" &
  LOAD_PIDS+=($!)
  E2E_PIDS+=($!)
done

check "the load runs" wait_for 60 "150 orders created" at_least 150
BEFORE_KILL=$(answered)
LED=$(partition_lines | awk '$3 == 2' | wc -l)
KILLED_AT=$SECONDS
"$KAFKA_CTL" kill "$CLUSTER_DIR" 2
echo "node 2 (leader of $LED partitions) killed after $BEFORE_KILL creates"
check "node 2 led partitions when it was killed" test "$LED" -gt 0
# The controller fences the dead broker after its session timeout and moves the leaders.
check "the leaders leave node 2" wait_for 60 "no partition led by node 2" none_led_by 2
FAILOVER_S=$((SECONDS - KILLED_AT))
AFTER_FAILOVER=$(answered)
check "two brokers left" eq "$(broker_count)" 2
check "ISR shrinks to two" wait_for 30 "every ISR of two" isr_is 2
# Creates after the failover, then the load ends.
check "creates go on after the failover" wait_for 60 "150 more creates" at_least $((AFTER_FAILOVER + 150))
touch "$LOAD/stop"
for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
LOAD_END=$SECONDS

cat "$LOAD"/out-* >"$LOAD/all"
TOTAL=$(wc -l <"$LOAD/all")
sed -n 's/ 201$//p' "$LOAD/all" | jq -r .data.id | sort -u >"$LOAD/acked"
N_ACKED=$(wc -l <"$LOAD/acked")
echo "load: $TOTAL requests, $N_ACKED answered 201 ($BEFORE_KILL before the kill, $AFTER_FAILOVER when the leaders had moved $FAILOVER_S s after it)"
check "every request answered 201 (the database is up)" eq "$N_ACKED" "$TOTAL"
sql "$DB" "SELECT id FROM orders" | sort -u >"$LOAD/db_orders"
check "every 201 order is in the database" eq "$(comm -23 "$LOAD/acked" "$LOAD/db_orders" | wc -l)" 0

# --- the relays carry on: the outbox drains with one broker missing
drained() { [[ $(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status <> 'SENT'") == 0 ]]; }
check "the outbox drains with node 2 down" wait_for 90 "every outbox row SENT" drained
DRAIN_S=$((SECONDS - LOAD_END))
check "no event DEAD" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status = 'DEAD'")" 0
check "one ORDER_CREATED per order in the outbox" eq \
  "$(sql "$DB" "SELECT count(DISTINCT aggregate_id) FROM outbox_events WHERE event_type = 'ORDER_CREATED'")" \
  "$(wc -l <"$LOAD/db_orders")"

# --- every committed event is on the topic (read whole, from the two survivors)
topic_events order.v1.events >"$LOAD/topic"
awk '$1 == "ORDER_CREATED" { print $2 }' "$LOAD/topic" | sort -u >"$LOAD/topic_orders"
awk '{ print $3 }' "$LOAD/topic" | sort -u >"$LOAD/topic_ids"
sql "$DB" "SELECT event_id FROM outbox_events" | sort -u >"$LOAD/outbox_ids"
MISSING=$(comm -23 "$LOAD/acked" "$LOAD/topic_orders" | wc -l)
check "every 201 order's ORDER_CREATED on order.v1.events ($MISSING missing)" eq "$MISSING" 0
check "every outbox event on order.v1.events" eq "$(comm -23 "$LOAD/outbox_ids" "$LOAD/topic_ids" | wc -l)" 0
check "nothing on the topic that the outbox does not have" eq "$(comm -13 "$LOAD/outbox_ids" "$LOAD/topic_ids" | wc -l)" 0
check "the header names the envelope's type" eq "$(awk '$1 != $6' "$LOAD/topic" | wc -l)" 0
DUPLICATES=$(($(wc -l <"$LOAD/topic") - $(wc -l <"$LOAD/topic_ids")))
echo "order.v1.events: $(wc -l <"$LOAD/topic") messages, $DUPLICATES redelivered duplicates"

# --- node 2 restarted on its data rejoins and catches up
RESTART_AT=$SECONDS
"$KAFKA_CTL" restart "$CLUSTER_DIR" 2
three() { [[ $(broker_count) == 3 ]]; }
check "three brokers again" wait_for 60 "node 2 in the metadata" three
check "ISR back to three everywhere" wait_for 120 "every ISR of three" isr_is 3
REJOIN_S=$((SECONDS - RESTART_AT))
# The tool must answer (exit 0) and list nothing: a failing tool is not "none".
under_replicated() {
  local out
  out=$("$KAFKA_CTL" tool kafka-topics --bootstrap-server "$KAFKA_BROKERS" --describe \
    --under-replicated-partitions 2>&1) || { echo "kafka-topics failed: $out" >&2; return 1; }
  grep -c Partition <<<"$out" || true
}
check "kafka-topics: no under-replicated partition" eq "$(under_replicated || echo failed)" 0
check "kafka-metadata-quorum: three voters" eq "$("$KAFKA_CTL" tool kafka-metadata-quorum \
  --bootstrap-server "$KAFKA_BROKERS" describe --replication 2>/dev/null | grep -cwE 'Leader|Follower')" 3

# After the rejoin nothing is lost either, and new orders still go through.
for i in 1 2 3; do NEW_ORDER=$(create_order "$(uuid)" "after-rejoin-$i"); done
check "a new order after the rejoin" test -n "$NEW_ORDER"
check "the outbox drains after the rejoin" wait_for 30 "every outbox row SENT" drained
topic_events order.v1.events >"$LOAD/topic2"
check "the rejoined cluster serves every event" eq "$(comm -23 "$LOAD/topic_ids" \
  <(awk '{ print $3 }' "$LOAD/topic2" | sort -u) | wc -l)" 0
check "the new order on the topic" grep -q "^ORDER_CREATED $NEW_ORDER " "$LOAD/topic2"

echo "figures: failover (kill to no leader on node 2) ${FAILOVER_S} s, outbox drained ${DRAIN_S} s after the load, rejoin (restart to ISR 3) ${REJOIN_S} s"
finish
