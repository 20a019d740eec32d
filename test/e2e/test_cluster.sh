#!/usr/bin/env bash
# Three nodes on loopback against one database (DESIGN.md "Many nodes"): membership in
# cluster_nodes, orders created through every node, reads and cancels through nodes
# that do not own the order (forwarded: cluster_forwarded_total), saga events from
# Kafka reaching the right terminal state; then one node SIGKILLed under a bounded
# load: every 201 is in the database, no transition applied twice, its orders served
# by the survivors, a deadline of one of its orders still fires, and the node
# restarted rejoins. The nodes talk mutual TLS (CONTRACT §7) with a throwaway CA.
# Before any assertion about forwarding, the test waits for what the design
# guarantees: every node lists the others in cluster_nodes and is connected to each of
# them (cluster_nodes_live), with the routing tables unchanged for a few heartbeats.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/cluster_tls_lib.sh"

DB=$(fresh_database)
CERTS=$E2E_TMP/certs
make_certs "$CERTS" node-1 node-2 node-3
GROUP="e2e-cluster-$$-$RANDOM"
HEARTBEAT_MS=300
TIMEOUT_MS=1500
NODE_ENV=(KAFKA_GROUP_ID="$GROUP" CLUSTER_HEARTBEAT_MS=$HEARTBEAT_MS
  CLUSTER_TIMEOUT_MS=$TIMEOUT_MS ORDER_TTL_RESERVED_S=8 OUTBOX_RELAYS=1)

declare -A PORT PID
start_node() { # N [PORT]
  PORT[$1]=${2:-$(free_port)}
  # shellcheck disable=SC2046
  start_service "$DB" "${PORT[$1]}" NODE_ID="node-$1" "${NODE_ENV[@]}" $(tls_env "$CERTS" "node-$1")
  PID[$1]=$SERVICE_PID
}
on() { BASE="http://127.0.0.1:${PORT[$1]}"; } # the node later requests go to
node_metric() { (on "$1" && metric "$2"); }
live_nodes_are() { [[ $(node_metric "$1" cluster_nodes_live) == "$2" ]]; }
changes_total() { # routing table changes, summed over the running nodes given
  local n sum=0
  for n in "$@"; do sum=$((sum + $(node_metric "$n" cluster_membership_changes_total))); done
  echo "$sum"
}
# all_connected N...: each node given lists all of them as live in cluster_nodes and
# has all of them in its routing table.
all_connected() {
  local n
  [[ $(sql "$DB" "SELECT count(*) FROM cluster_nodes
    WHERE heartbeat_at > now() - interval '$TIMEOUT_MS milliseconds'") == "$#" ]] || return 1
  for n in "$@"; do live_nodes_are "$n" "$#" || return 1; done
}
# settled N...: all_connected, and no routing table changed for three heartbeats.
settled() {
  local before
  all_connected "$@" || return 1
  before=$(changes_total "$@")
  sleep "$(awk "BEGIN { print 3 * $HEARTBEAT_MS / 1000 }")"
  all_connected "$@" && [[ $(changes_total "$@") == "$before" ]]
}
forwarded_total() { # the sum over the running nodes given
  local n sum=0
  for n in "$@"; do sum=$((sum + $(node_metric "$n" "$FETCHES"))); done
  echo "$sum"
}

for n in 1 2 3; do start_node "$n"; done
for n in 1 2 3; do
  on "$n"
  wait_for 30 "node-$n readyz 200" ready
done
check "the three nodes connected to each other, tables settled" \
  wait_for 30 "all three connected and settled" settled 1 2 3
check "three rows in cluster_nodes" eq "$(sql "$DB" "SELECT count(*) FROM cluster_nodes
  WHERE heartbeat_at > now() - interval '5 seconds'")" 3
check "distinct CAF ports" eq "$(sql "$DB" "SELECT count(DISTINCT caf_port) FROM cluster_nodes")" 3

# --- orders through every node; reads through every node
USER_ID=$(uuid)
ORDERS=()
for n in 1 2 3 1 2 3; do
  on "$n"
  ORDERS+=("$(create_order "$USER_ID" "cl-$n-${#ORDERS[@]}")")
done
check "six orders created through the three nodes" eq "${#ORDERS[@]}" 6

# owned_by N ORDER: a read through node N is not forwarded.
owned_by() {
  local before after
  before=$(node_metric "$1" "$FETCHES")
  on "$1"
  req GET "/api/v1/orders/$2" ''
  after=$(node_metric "$1" "$FETCHES")
  [[ $STATUS == 200 && $after == "$before" ]]
}

# handled_total N...: saga events handled by their order, any outcome, summed.
handled_total() {
  local n sum=0
  for n in "$@"; do
    sum=$((sum + $( (on "$n" && curl -fsS "$BASE/metrics") |
      awk '$1 ~ /^saga_events_handled_total[{]/ { s += $2 } END { print s + 0 }')))
  done
  echo "$sum"
}
BEFORE=$(forwarded_total 1 2 3)
CHANGES_BEFORE=$(changes_total 1 2 3)
# Saga traffic while the reads run, as on a shared broker (a fresh consumer group reads
# a topic's history from the beginning): twelve events for orders this database does
# not have. The nodes forward them to their owners too; those forwards are not reads.
HANDLED_BEFORE=$(handled_total 1 2 3)
for i in $(seq 12); do inventory_reserved "$(uuid)"; done
READS_OK=0
for o in "${ORDERS[@]}"; do
  for n in 1 2 3; do
    on "$n"
    req GET "/api/v1/orders/$o" ''
    [[ $STATUS == 200 && $(json .data.id) == "$o" && $(json .data.status) == CREATED ]] &&
      READS_OK=$((READS_OK + 1))
  done
done
check "every order read through every node" eq "$READS_OK" 18
stray_handled() { (($(handled_total 1 2 3) >= HANDLED_BEFORE + 12)); }
check "the twelve stray events handled" wait_for 30 "stray events handled" stray_handled
check "the routing tables did not change during the reads" eq "$(changes_total 1 2 3)" "$CHANGES_BEFORE"
check "two of three reads forwarded to the owner" eq "$(($(forwarded_total 1 2 3) - BEFORE))" 12
check "no forward fell back to a non-owner" eq "$(($(node_metric 1 cluster_forward_fallbacks_total) +
  $(node_metric 2 cluster_forward_fallbacks_total) + $(node_metric 3 cluster_forward_fallbacks_total)))" 0

# An order node-2 owns (for the kill below): create until one lands there.
VICTIM_ORDER=
for i in $(seq 40); do
  on 1
  o=$(create_order "$USER_ID" "cl-victim-$i")
  if owned_by 2 "$o"; then VICTIM_ORDER=$o; break; fi
done
check "an order owned by node-2" test -n "$VICTIM_ORDER"

# --- a cancel through a node that does not own the order
CANCELLED=${ORDERS[5]}
for n in 1 2 3; do owned_by "$n" "$CANCELLED" && break; done
NOT_OWNER=$(((n % 3) + 1))
on "$NOT_OWNER"
req POST "/api/v1/orders/$CANCELLED/cancel" '{"reason":"USER_CANCEL"}'
check "cancel through a non-owner" eq "$STATUS/$(json .data.status)" 200/CANCELLED
CANCEL_OK=0
for n in 1 2 3; do
  on "$n"
  req GET "/api/v1/orders/$CANCELLED" ''
  [[ $(json .data.status) == CANCELLED ]] && CANCEL_OK=$((CANCEL_OK + 1))
done
check "every node reads the cancel" eq "$CANCEL_OK" 3

# --- saga events through Kafka: the consumers of all nodes share the partitions
HAPPY=("${ORDERS[0]}" "${ORDERS[1]}" "${ORDERS[2]}")
SAD=("${ORDERS[3]}" "${ORDERS[4]}")
declare -A INTENT
for o in "${HAPPY[@]}"; do
  INTENT[$o]=$(uuid)
  inventory_reserved "$o"
  intent_created "$o" "${INTENT[$o]}"
done
for o in "${SAD[@]}"; do reservation_failed "$o"; done
for o in "${HAPPY[@]}"; do
  check "PAYMENT_PENDING $o" wait_for 40 "PAYMENT_PENDING" status_is "$DB" "$o" PAYMENT_PENDING/
  payment_succeeded "$o" "${INTENT[$o]}"
done
for o in "${HAPPY[@]}"; do
  check "PAID $o" wait_for 30 PAID status_is "$DB" "$o" PAID/
  check "three inbox rows for $o" eq "$(inbox_count "$DB" "$o")" 3
done
for o in "${SAD[@]}"; do
  check "CANCELLED/STOCK_EXHAUSTED $o" wait_for 30 CANCELLED status_is "$DB" "$o" CANCELLED/STOCK_EXHAUSTED
done
for n in 1 2 3; do
  on "$n"
  req GET "/api/v1/orders/${HAPPY[0]}" ''
  check "node-$n reads PAID" eq "$(json .data.status)" PAID
done

# --- the victim's order waits for its RESERVED deadline (8 s)
inventory_reserved "$VICTIM_ORDER"
check "victim's order RESERVED" wait_for 30 RESERVED status_is "$DB" "$VICTIM_ORDER" RESERVED/

# --- SIGKILL node-2 under a bounded load of creates spread over the three nodes
LOAD_OUT=$E2E_TMP/load.txt
: >"$LOAD_OUT"
load() {
  local i n port
  for ((i = 0; i < 240; i++)); do
    n=$((i % 3 + 1))
    port=${PORT[$n]}
    curl -s -o "$E2E_TMP/load-body" -w '%{http_code}' --max-time 10 -X POST \
      -H 'Content-Type: application/json' -H "X-Idempotency-Key: load-$i" \
      --data-binary '{"user_id":"'"$LOAD_USER"'","currency":"EUR","total_amount":1.00,"items":[{"sku_id":"s","quantity":1,"price":1.00}]}' \
      "http://127.0.0.1:$port/api/v1/orders" >"$E2E_TMP/load-status" 2>/dev/null || true
    echo "$n $(cat "$E2E_TMP/load-status") $(jq -r '.data.id // "-"' "$E2E_TMP/load-body" 2>/dev/null || echo -)" >>"$LOAD_OUT"
  done
}
LOAD_USER=$(uuid)
load &
LOAD_PID=$!
load_done() { (($(wc -l <"$LOAD_OUT") >= $1)); }
check "the load runs" wait_for 30 "60 requests of the load done" load_done 60
KILLED_AT=$SECONDS
kill -KILL "${PID[2]}"
# While the load goes on: the survivors drop node-2 (its connection breaks at once; its
# row lapses after CLUSTER_TIMEOUT_MS).
for n in 1 3; do
  check "node-$n drops node-2 within the heartbeat timeout" \
    wait_for $((TIMEOUT_MS / 1000 + 1)) "node-$n: 2 live nodes" live_nodes_are "$n" 2
done
DROPPED_AFTER=$((SECONDS - KILLED_AT))
check "node-2 dropped within ${DROPPED_AFTER} s of the kill" test "$DROPPED_AFTER" -le $((TIMEOUT_MS / 1000 + 1))
check "load finished" wait_for 90 "the load to finish" bash -c "! kill -0 $LOAD_PID"
wait "$LOAD_PID" 2>/dev/null || true

ANSWERED=$(awk '$2 == 201 { print $3 }' "$LOAD_OUT" | sort -u)
N_ANSWERED=$(grep -c . <<<"$ANSWERED" || true)
IN_LIST=$(tr '\n' ',' <<<"$ANSWERED" | sed "s/,\$//; s/[^,]*/'&'/g")
check "most of the load answered 201 (got $N_ANSWERED)" test "$N_ANSWERED" -ge 150
check "survivors kept answering after the kill" \
  test "$(tail -n 60 "$LOAD_OUT" | awk '$1 != 2 && $2 == 201' | wc -l)" -ge 30
check "every 201 is in the database" eq \
  "$(sql "$DB" "SELECT count(*) FROM orders WHERE id IN ($IN_LIST)")" "$N_ANSWERED"
check "one ORDER_CREATED per answered order" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events
  WHERE event_type = 'ORDER_CREATED' AND aggregate_id IN ($IN_LIST)")" "$N_ANSWERED"

# --- the survivors take node-2's orders over
for n in 1 3; do
  on "$n"
  req GET "/api/v1/orders/$VICTIM_ORDER" ''
  check "node-$n serves node-2's order" eq "$STATUS/$(json .data.id)" "200/$VICTIM_ORDER"
done
check "node-2's deadline fires on a survivor" \
  wait_for 30 EXPIRED status_is "$DB" "$VICTIM_ORDER" EXPIRED/RESERVATION_TTL
check "one ORDER_EXPIRED for it" eq "$(outbox_count "$DB" "$VICTIM_ORDER" ORDER_EXPIRED)" 1

# --- no transition applied twice, anywhere
check "no event type twice for one order" eq "$(sql "$DB" "SELECT count(*) FROM (
  SELECT aggregate_id, event_type FROM outbox_events GROUP BY 1, 2 HAVING count(*) > 1) d")" 0
check "inbox rows match the applied events" eq \
  "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE order_id IN ('${HAPPY[0]}','${HAPPY[1]}','${HAPPY[2]}')")" 9

# --- node-2 restarted rejoins
STARTED_BEFORE=$(sql "$DB" "SELECT started_at FROM cluster_nodes WHERE node_id = 'node-2'")
start_node 2
on 2
wait_for 30 "node-2 readyz 200 again" ready
check "the three nodes connected again, tables settled" \
  wait_for 30 "all three connected and settled again" settled 1 2 3
check "node-2 back in cluster_nodes" eq "$(sql "$DB" "SELECT count(*) FROM cluster_nodes
  WHERE node_id = 'node-2' AND heartbeat_at > now() - interval '5 seconds'
  AND started_at > '$STARTED_BEFORE'")" 1
on 2
req POST /api/v1/orders '{"user_id":"'"$USER_ID"'","currency":"EUR","total_amount":1.00,"items":[{"sku_id":"s","quantity":1,"price":1.00}]}' \
  -H 'X-Idempotency-Key: cl-after-restart'
check "node-2 takes creates again" eq "$STATUS" 201
check "node-2 owns its orders again" owned_by 2 "$VICTIM_ORDER"
on 1
req GET "/api/v1/orders/$VICTIM_ORDER" ''
check "node-1 reads it through node-2" eq "$(json .data.status)/$(json .data.reason)" EXPIRED/RESERVATION_TTL

finish
