#!/usr/bin/env bash
# Expiry does not depend on which node runs which role (issue 11 item 3, issue 18): a
# node owns the shards Kafka's group gives it and sweeps their deadlines whatever its
# ORDER_ROLES. Node 1 runs only `http` (no `expiry`), node 2 `http,expiry`; both
# passivate their order actors after 1 s, so their own timers are gone when the 15 s
# CREATED deadline passes. Every order, node 1's too, must be CANCELLED with
# RESERVATION_TIMEOUT exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
COMMON=(CLUSTER_INSECURE=1 ORDER_TTL_CREATED_S=15 ORDER_PASSIVATE_S=1)
P1=$(free_port) P2=$(free_port)
start_service "$DB" "$P1" NODE_ID=node-1 ORDER_ROLES=http "${COMMON[@]}"
start_service "$DB" "$P2" NODE_ID=node-2 ORDER_ROLES=http,expiry "${COMMON[@]}"
BASE=http://127.0.0.1:$P1
wait_for 30 "node-1 ready" ready
BASE=http://127.0.0.1:$P2
wait_for 30 "node-2 ready" ready
owns_some() { [[ $(sql "$DB" "SELECT count(*) FROM shard_owners WHERE node_id = '$1'") -ge 1 ]]; }
check "node-1 (no expiry role) owns shards" wait_for 30 "node-1 owns a shard" owns_some node-1
check "node-2 owns shards" wait_for 30 "node-2 owns a shard" owns_some node-2

# Eight orders through each node: each mints its ids in shards it owns.
USER_ID=$(uuid)
ORDERS=()
BASE=http://127.0.0.1:$P1
for i in $(seq 8); do ORDERS+=("$(create_order "$USER_ID" "roles-1-$i")"); done
BASE=http://127.0.0.1:$P2
for i in $(seq 8); do ORDERS+=("$(create_order "$USER_ID" "roles-2-$i")"); done
check "sixteen orders created" eq "${#ORDERS[@]}" 16
owned_by_1=$(sql "$DB" "SELECT count(*) FROM orders o JOIN shard_owners s ON s.shard = o.shard
  WHERE s.node_id = 'node-1' AND o.user_id = '$USER_ID'")
check "node 1 owns the eight it created" eq "$owned_by_1" 8
# Reads through either node: the owner's actor or PostgreSQL, never a 503.
READ=0
for o in "${ORDERS[@]}"; do
  req GET "/api/v1/orders/$o" ''
  [[ $STATUS == 200 ]] && READ=$((READ + 1))
done
check "sixteen reads through node 2" eq "$READ" 16
# The premise: node 1's actors have been idle for more than ORDER_PASSIVATE_S before
# the first deadline, so only a sweeper can expire them.
FIRST_DUE=$(sql "$DB" "SELECT extract(epoch FROM min(expired_at))::bigint FROM orders")
check "reads done 3 s before the first deadline" test $(($(date +%s) + 3)) -le "$FIRST_DUE"

all_expired() {
  [[ $(sql "$DB" "SELECT count(*) FROM orders WHERE status = 'CANCELLED'
    AND reason = 'RESERVATION_TIMEOUT' AND user_id = '$USER_ID'") == 16 ]]
}
check "every order expired, node 1's too" wait_for 30 "16 orders CANCELLED/RESERVATION_TIMEOUT" all_expired
check "each expired once: one ORDER_CANCELLED per order" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events
  WHERE event_type = 'ORDER_CANCELLED'")" 16
applied_by() { (($(BASE=http://127.0.0.1:$1 metric 'expiry_requests_total{outcome="applied"}') >= 1)); }
check "node 1's sweeper applied its orders' deadlines (no expiry role)" applied_by "$P1"
check "node 2's sweeper applied its own" applied_by "$P2"

finish
