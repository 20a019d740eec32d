#!/usr/bin/env bash
# A consumer group rebalance while events flow (Apache Kafka, a node of this test's own):
# node A consumes inventory.v1.events, a stream of INVENTORY_RESERVED and
# INVENTORY_RESERVATION_FAILED (each with its own event_id, some delivered twice) is
# produced with kcat, node B joins the group, takes partitions and consumes, then leaves
# (SIGTERM). Every event takes effect exactly once, none is lost, and the offsets the
# group committed (read with Kafka's own kafka-consumer-groups, during the run and after
# it) never run ahead of the work in processed_events: at the end LAG 0 everywhere and
# the committed offsets are the log-end offsets.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"

N=400      # orders, one event each (even: reserved, odd: reservation failed)
CHUNK=10   # orders per production step
PACE=0.3   # seconds between steps
own_cluster 1
DB=$(fresh_database)
GROUP="e2e-kafka-rebalance-$$"
NODE_ENV=(CLUSTER_INSECURE=1 KAFKA_GROUP_ID="$GROUP" CLUSTER_HEARTBEAT_MS=300 CLUSTER_TIMEOUT_MS=1500 OUTBOX_RELAYS=1)
T=$E2E_TMP/rebalance
mkdir -p "$T"

PORT_A=$(free_port)
start_service "$DB" "$PORT_A" NODE_ID=node-a "${NODE_ENV[@]}"
A="http://127.0.0.1:$PORT_A"
BASE=$A
wait_for 30 "node A readyz 200" ready

# --- the orders, created through A by four parallel clients
make_orders() { # W COUNT
  local i
  for ((i = 0; i < $2; i++)); do
    curl -s -X POST -H 'Content-Type: application/json' -H "X-Idempotency-Key: rb-$1-$i" \
      --data-binary '{"user_id":"'"$(uuid)"'","currency":"EUR","total_amount":25.00,"items":[{"sku_id":"sku-1","quantity":2,"price":12.50}]}' \
      "$A/api/v1/orders" | jq -r '.data.id // empty'
  done >"$T/orders-$1"
}
MAKERS=()
for w in 1 2 3 4; do
  make_orders "$w" $((N / 4)) &
  MAKERS+=($!)
done
for pid in "${MAKERS[@]}"; do wait "$pid"; done # not a bare wait: the service is a child too
mapfile -t ORDERS < <(cat "$T"/orders-*)
check "$N orders created" eq "${#ORDERS[@]}" "$N"

# --- the event stream: step k produces the events of orders k*CHUNK..; every fifth
# event of a step goes out again with the step after (a producer's retry). The stream
# runs up to the step named in $T/limit, which the test raises as it goes.
: >"$T/produced"
producer() {
  local k=0 i o id steps=$((N / CHUNK)) res fail again=""
  while ((k < steps)); do
    if ((k >= $(cat "$T/limit"))); then sleep 0.1; continue; fi
    res="" fail=""
    for ((i = k * CHUNK; i < (k + 1) * CHUNK; i++)); do
      o=${ORDERS[$i]} id=$(uuid)
      if ((i % 2 == 0)); then
        res+="$o|$(envelope INVENTORY_RESERVED "$o" '"items":[{"item_id":"sku-1","quantity":2}],"reservation_expires_at":"'"$(now_rfc3339)"'"' "$id")"$'\n'
      else
        fail+="$o|$(envelope INVENTORY_RESERVATION_FAILED "$o" '"failed_items":[{"item_id":"sku-1","quantity":2}],"reason":"STOCK_EXHAUSTED"' "$id")"$'\n'
      fi
      echo "$id" >>"$T/produced"
    done
    # last step's repeats go with this step's events of their type
    while IFS= read -r line; do
      [[ -z $line ]] && continue
      if [[ $line == *INVENTORY_RESERVED* ]]; then res+="$line"$'\n'; else fail+="$line"$'\n'; fi
    done <<<"$again"
    again=$(printf '%s' "$res$fail" | awk 'NR % 5 == 0')
    printf '%s' "$res" | kcat -P -b "$KAFKA_BROKERS" -t inventory.v1.events -K '|' -H event_type=INVENTORY_RESERVED
    printf '%s' "$fail" | kcat -P -b "$KAFKA_BROKERS" -t inventory.v1.events -K '|' -H event_type=INVENTORY_RESERVATION_FAILED
    printf '%s' "$res$fail" | grep -c . >>"$T/messages"
    k=$((k + 1))
    echo "$k" >"$T/step"
    sleep "$PACE"
  done
}
echo 8 >"$T/limit"
echo 0 >"$T/step"
producer &
PRODUCER_PID=$!
E2E_PIDS+=($!)
step_at_least() { (($(cat "$T/step") >= $1)); }
check "events flow to node A" wait_for 30 "8 steps produced" step_at_least 8
node_consumed() { # URL: the sum of saga_events_consumed_total
  curl -fsS "$1/metrics" | awk '/^saga_events_consumed_total/ { s += $2 } END { print s + 0 }'
}
a_consumes() { (($(node_consumed "$A") > 0)); }
check "node A consumes" wait_for 30 "node A consumed events" a_consumes
REBALANCES_BEFORE=$(BASE=$A metric saga_consumer_rebalances_total)

# --- node B joins while the stream goes on: the stream stays two steps ahead until B
# consumes (however long its start and join take), keeping ten steps for B's leave.
STEPS=$((N / CHUNK))
keep_flowing() {
  local s
  s=$(cat "$T/step")
  ((s + 2 <= STEPS - 10)) && echo $((s + 2)) >"$T/limit"
  return 0
}
keep_flowing
PORT_B=$(free_port)
# No NODE_ID: a dynamic member, which leaves the group on SIGTERM (a static one would
# keep its shards for the session timeout).
start_service "$DB" "$PORT_B" "${NODE_ENV[@]}"
B_PID=$SERVICE_PID
B="http://127.0.0.1:$PORT_B"
BASE=$B
wait_for 30 "node B readyz 200" ready
b_consumes() { keep_flowing; (($(node_consumed "$B") > 0)); }
check "node B takes partitions and consumes" wait_for 60 "node B consumed events" b_consumes

# Committed offsets during the run, with two members: each one is behind durable work.
describe_group() { # the rows "partition current-offset log-end-offset lag" of inventory.v1.events
  "$KAFKA_CTL" tool kafka-consumer-groups --bootstrap-server "$KAFKA_BROKERS" --describe \
    --group "$GROUP" 2>/dev/null | awk '$2 == "inventory.v1.events" { print $3, $4, $5, $6 }' | sort -n
}
describe_group >"$T/mid"
# The members are those of the shards' group (DESIGN.md "Many nodes"); the offsets are
# committed under $GROUP by the node that owns each shard.
MEMBERS_MID=$("$KAFKA_CTL" tool kafka-consumer-groups --bootstrap-server "$KAFKA_BROKERS" --describe \
  --group "$GROUP.shards" --members 2>/dev/null | awk '$1 == "'"$GROUP.shards"'"' | wc -l)
check "two members in the shards' group while B runs" eq "$MEMBERS_MID" 2
topic_events inventory.v1.events >"$T/topic_mid"
sql "$DB" "SELECT event_id FROM processed_events" | sort -u >"$T/processed_mid"
# every message below its partition's committed offset (as read above) is applied
awk 'NR == FNR { if ($2 ~ /^[0-9]+$/) c[$1] = $2; next } ($4 in c) && $5 < c[$4] { print $3 }' \
  "$T/mid" "$T/topic_mid" | sort -u >"$T/committed_mid"
echo "mid-run: $(wc -l <"$T/committed_mid") distinct events below committed offsets, $(wc -l <"$T/processed_mid") applied"
check "mid-run: offsets committed on $(awk '$2 ~ /^[0-9]+$/' "$T/mid" | wc -l) partitions" test -s "$T/committed_mid"
check "mid-run: every event below a committed offset is applied" eq \
  "$(comm -23 "$T/committed_mid" "$T/processed_mid" | wc -l)" 0

# --- node B leaves (SIGTERM) while the stream goes on
echo "$STEPS" >"$T/limit"
B_CONSUMED=$(node_consumed "$B")
kill -TERM "$B_PID"
b_gone() { ! kill -0 "$B_PID" 2>/dev/null; }
check "node B stops on SIGTERM" wait_for 30 "node B exits" b_gone
B_STATUS=0
wait "$B_PID" 2>/dev/null || B_STATUS=$?
check "node B exits 0" eq "$B_STATUS" 0
BASE=$A
check "the stream ends" wait_for 60 "the producer done" bash -c "! kill -0 $PRODUCER_PID 2>/dev/null"
wait "$PRODUCER_PID" 2>/dev/null || true

# --- every event applied exactly once, none lost
MESSAGES=$(awk '{ s += $1 } END { print s }' "$T/messages")
DISTINCT=$(sort -u "$T/produced" | wc -l)
echo "produced $MESSAGES messages, $DISTINCT distinct events; node B consumed $B_CONSUMED before it left"
all_applied() {
  [[ $(sql "$DB" "SELECT count(*) FROM orders WHERE status IN ('RESERVED', 'CANCELLED')") == "$N" ]]
}
check "every order took its event" wait_for 60 "every order RESERVED or CANCELLED" all_applied
check "even orders RESERVED" eq "$(sql "$DB" "SELECT count(*) FROM orders WHERE status = 'RESERVED'")" $((N / 2))
check "odd orders CANCELLED/STOCK_EXHAUSTED" eq \
  "$(sql "$DB" "SELECT count(*) FROM orders WHERE status = 'CANCELLED' AND reason = 'STOCK_EXHAUSTED'")" $((N / 2))
check "processed_events rows == distinct events produced" eq \
  "$(sql "$DB" "SELECT count(*) FROM processed_events")" "$DISTINCT"
check "the applied events are the produced ones" eq "$(comm -3 <(sort -u "$T/produced") \
  <(sql "$DB" "SELECT event_id FROM processed_events" | sort -u) | wc -l)" 0
check "one inbox row per order" eq "$(sql "$DB" "SELECT count(*) FROM (SELECT order_id FROM processed_events
  GROUP BY 1 HAVING count(*) > 1) d")" 0
check "one ORDER_CANCELLED per cancelled order" eq "$(sql "$DB" "SELECT count(*) || '/' || count(DISTINCT aggregate_id)
  FROM outbox_events WHERE event_type = 'ORDER_CANCELLED'")" "$((N / 2))/$((N / 2))"
check "no other transition emitted" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events
  WHERE event_type NOT IN ('ORDER_CREATED', 'ORDER_CANCELLED')")" 0
check "the DLQ topic is readable" kcat -L -b "$KAFKA_BROKERS" -t order.v1.dlq
check "nothing to the DLQ" eq "$(kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.dlq -o beginning -e 2>/dev/null | grep -c .)" 0
REBALANCES=$(($(metric saga_consumer_rebalances_total) - REBALANCES_BEFORE))
check "node A saw B join and leave ($REBALANCES rebalances)" test "$REBALANCES" -ge 2

# --- the committed offsets: LAG 0, the log-end offsets, every event below them applied
lag_zero() {
  describe_group >"$T/end"
  [[ $(wc -l <"$T/end") == 8 ]] && awk '$2 != $3 || $4 != 0 { bad = 1 } END { exit bad }' "$T/end"
}
check "kafka-consumer-groups: LAG 0 and committed == log-end on every partition" \
  wait_for 60 "LAG 0 on all 8 partitions" lag_zero
check "log-end offsets sum to the messages produced" eq "$(awk '{ s += $3 } END { print s }' "$T/end")" "$MESSAGES"
topic_events inventory.v1.events >"$T/topic_end"
awk 'NR == FNR { c[$1] = $2; next } ($4 in c) && $5 < c[$4] { print $3 }' "$T/end" "$T/topic_end" |
  sort -u >"$T/committed_end"
check "every event below the committed offsets applied" eq "$(comm -23 "$T/committed_end" \
  <(sql "$DB" "SELECT event_id FROM processed_events" | sort -u) | wc -l)" 0
check "and that is every event produced" eq "$(wc -l <"$T/committed_end")" "$DISTINCT"

finish
