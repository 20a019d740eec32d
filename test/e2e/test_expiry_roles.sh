#!/usr/bin/env bash
# Issue 11 item 3: expiry does not depend on which node runs which role. Node 1 runs
# only `http` (no sweeper) and passivates its order actors after 1 s, so their own
# timers are gone when the 15 s CREATED deadline passes (the reads below revive them
# for a moment, seconds before it); node 2 runs the sweeper. Every
# order, also those node 1 owns, must be CANCELLED with RESERVATION_TIMEOUT — node 2's
# sweeper claims the due deadline and the router forwards the expiry to the owner.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
COMMON=(CLUSTER_HEARTBEAT_MS=300 CLUSTER_TIMEOUT_MS=1500 CLUSTER_INSECURE=1
  ORDER_TTL_CREATED_S=15 ORDER_PASSIVATE_S=1)
P1=$(free_port) P2=$(free_port)
start_service "$DB" "$P1" NODE_ID=node-1 ORDER_ROLES=http "${COMMON[@]}"
start_service "$DB" "$P2" NODE_ID=node-2 ORDER_ROLES=http,expiry "${COMMON[@]}"
BASE=http://127.0.0.1:$P1
wait_for 30 "node-1 ready" ready
BASE=http://127.0.0.1:$P2
wait_for 30 "node-2 ready" ready
live_two() { [[ $(BASE=http://127.0.0.1:$1 metric cluster_nodes_live) == 2 ]]; }
check "node-1 sees both nodes" wait_for 15 "node-1: 2 live nodes" live_two "$P1"
check "node-2 sees both nodes" wait_for 15 "node-2: 2 live nodes" live_two "$P2"

# Sixteen orders through node 1; rendezvous hashing gives node 1 about half of them.
BASE=http://127.0.0.1:$P1
USER_ID=$(uuid)
ORDERS=()
for i in $(seq 16); do ORDERS+=("$(create_order "$USER_ID" "roles-$i")"); done
check "sixteen orders created" eq "${#ORDERS[@]}" 16
# Reads through node 1 that it does not forward are of its own orders.
BEFORE=$(metric "$FETCHES")
READ=0
for o in "${ORDERS[@]}"; do
  req GET "/api/v1/orders/$o" ''
  [[ $STATUS == 200 ]] && READ=$((READ + 1))
done
check "sixteen reads" eq "$READ" 16
OWN=$((16 - ($(metric "$FETCHES") - BEFORE)))
check "node 1 (no sweeper) owns some of them" test "$OWN" -ge 1
check "and forwards the others (the fetch series is there)" test "$OWN" -le 15
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
expiries_applied() { (($(BASE=http://127.0.0.1:$P2 metric 'expiry_requests_total{outcome="applied"}') >= 1)); }
check "node 2's sweeper applied them" expiries_applied

finish
