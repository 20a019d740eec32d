#!/usr/bin/env bash
# A node opens no cluster port unless CLUSTER_TLS_* or CLUSTER_INSECURE=1 asks for one
# (CONTRACT §7, issue 22). A plain CAF client (tools/cluster_stranger.cpp) could mark an
# order PAID, cancel it or read it on the port every node used to publish.
# * The single node of `./dev.sh up` as it is: run here with exactly the environment
#   dev.sh gives it (DATABASE_URL, KAFKA_BROKERS, HTTP_ADDR=127.0.0.1:PORT, nothing of
#   the cluster), since a second dev.sh stack (its own PostgreSQL, Apache Kafka and a
#   build, in the one .dev of the tree) cannot run inside the suite. Its process listens
#   on the HTTP port and nothing else; cluster_nodes records no cluster port; a stranger
#   on every other port the process listens on (none) gets no answer.
# * A node as a pod would run it (HTTP_ADDR=0.0.0.0:PORT, so CLUSTER_HOST is the host
#   name) with CAF_NODE_PORT fixed as docker/ does, but no TLS: the stranger on
#   hostname:CAF_NODE_PORT gets no connection for a fetch, a cancel or a saga event,
#   and the order is untouched.
# * Control: with CLUSTER_INSECURE=1 the same way of looking does see the cluster port.
# * A node with a cluster port does not start beside a live node without one (both
#   would own every order): it exits 1 with one line naming that node.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/cluster_tls_lib.sh"

# The suite's environment must not hand the nodes cluster settings of its own.
unset CLUSTER_TLS_CA CLUSTER_TLS_CERT CLUSTER_TLS_KEY CLUSTER_INSECURE CLUSTER_HOST \
  CAF_NODE_PORT NODE_ID
NODE_ENV=(CLUSTER_HEARTBEAT_MS=300
  CLUSTER_TIMEOUT_MS=1500 OUTBOX_RELAYS=1)

# listening PID: the local addresses PID listens on (TCP), one a line, sorted.
listening() { ss -ltnpH | awk -v p="pid=$1," 'index($0, p) { print $4 }' | sort -u; }
# other_ports PID HTTP_PORT: the ports PID listens on besides HTTP_PORT.
other_ports() { listening "$1" | sed 's/.*://' | grep -vx "$2" | sort -u || true; }
recorded_port() { sql "$1" "SELECT caf_port FROM cluster_nodes WHERE node_id = '$2'"; }
# untouched DB ORDER: CREATED, no saga event applied, no event but ORDER_CREATED.
untouched() {
  [[ $(order_status "$1" "$2") == CREATED/ && $(inbox_count "$1" "$2") == 0 &&
    $(sql "$1" "SELECT string_agg(event_type, ',') FROM outbox_events
      WHERE aggregate_id = '$2'") == ORDER_CREATED ]]
}
# stranger_gets_nothing HOST PORT ORDER WHAT: fetch, cancel and a saga event, each
# without a connection (the stranger's exit code 3).
stranger_gets_nothing() {
  local cmd
  for cmd in fetch cancel event; do
    stranger -- "$1" "$2" "$cmd" "$3" INVENTORY_RESERVED
    check "$4: stranger's $cmd on $1:$2 gets no connection ($STRANGER_OUT)" eq "$STRANGER_RC" 3
  done
}
USER_ID=$(uuid)

# --- the single node of ./dev.sh up
DB=$(fresh_database)
HTTP_PORT=$(free_port)
start_service "$DB" "$HTTP_PORT" "${NODE_ENV[@]}"
SOLO_PID=$SERVICE_PID
BASE="http://127.0.0.1:$HTTP_PORT"
wait_for 30 "dev.sh-like node readyz 200" ready
SOLO_ID=$(sql "$DB" "SELECT node_id FROM cluster_nodes ORDER BY started_at DESC LIMIT 1")
check "the node is registered" test -n "$SOLO_ID"
ORDER=$(create_order "$USER_ID" "port-devsh")
check "an order" test -n "$ORDER"
check "the node listens on its HTTP port only (got: $(listening "$SOLO_PID" | xargs))" \
  eq "$(listening "$SOLO_PID")" "127.0.0.1:$HTTP_PORT"
check "cluster_nodes records no cluster port (got $(recorded_port "$DB" "$SOLO_ID"))" \
  eq "$(recorded_port "$DB" "$SOLO_ID")" 0
for port in $(other_ports "$SOLO_PID" "$HTTP_PORT"); do
  stranger_gets_nothing 127.0.0.1 "$port" "$ORDER" "dev.sh node"
done
check "the order is untouched" untouched "$DB" "$ORDER"

# --- a node with a cluster port does not start beside it
CERTS=$E2E_TMP/certs
make_certs "$CERTS" node-2
TLS_PORT=$(free_port)
set +e
# shellcheck disable=SC2046
TLS_OUT=$(env DATABASE_URL="$DB" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:$TLS_PORT" \
  NODE_ID=node-2 "${NODE_ENV[@]}" $(tls_env "$CERTS" node-2) timeout 60 "$FLASHSALE_BIN" serve 2>&1)
TLS_RC=$?
set -e
check "a TLS node beside a node without a cluster port exits 1 (got $TLS_RC)" eq "$TLS_RC" 1
check "with one line naming that node ($(grep -c . <<<"$TLS_OUT") lines)" \
  grep -q "node $SOLO_ID is live without a cluster port" <<<"$TLS_OUT"
check "the single node still serves" ready
kill "$SOLO_PID"
wait "$SOLO_PID" 2>/dev/null || true

# --- a node as a pod would run it: every interface for HTTP, CAF_NODE_PORT fixed, no TLS
DB2=$(fresh_database)
HTTP_PORT=$(free_port)
CAF_PORT=$(free_port)
start_service "$DB2" "$HTTP_PORT" HTTP_ADDR="0.0.0.0:$HTTP_PORT" CAF_NODE_PORT="$CAF_PORT" \
  NODE_ID=pod "${NODE_ENV[@]}"
POD_PID=$SERVICE_PID
BASE="http://127.0.0.1:$HTTP_PORT"
wait_for 30 "pod-like node readyz 200" ready
ORDER=$(create_order "$USER_ID" "port-pod")
check "an order on the pod-like node" test -n "$ORDER"
check "the pod-like node listens on its HTTP port only (got: $(listening "$POD_PID" | xargs))" \
  eq "$(other_ports "$POD_PID" "$HTTP_PORT")" ""
stranger_gets_nothing "$(hostname)" "$CAF_PORT" "$ORDER" "pod-like node"
check "the order is untouched" untouched "$DB2" "$ORDER"
check "the node says why CAF_NODE_PORT is not opened" \
  grep -q "CAF_NODE_PORT.*CLUSTER_INSECURE" "$E2E_TMP/service-$HTTP_PORT.log"
kill "$POD_PID"
wait "$POD_PID" 2>/dev/null || true

# --- control: with CLUSTER_INSECURE=1 the cluster port is there, seen the same way
DB3=$(fresh_database)
HTTP_PORT=$(free_port)
start_service "$DB3" "$HTTP_PORT" NODE_ID=open CLUSTER_INSECURE=1 "${NODE_ENV[@]}"
OPEN_PID=$SERVICE_PID
BASE="http://127.0.0.1:$HTTP_PORT"
wait_for 30 "insecure node readyz 200" ready
OPEN_CAF=$(recorded_port "$DB3" open)
check "an insecure node records its cluster port (got $OPEN_CAF)" test "$OPEN_CAF" -gt 0
check "and listens on it beside HTTP (got: $(listening "$OPEN_PID" | xargs))" \
  eq "$(other_ports "$OPEN_PID" "$HTTP_PORT")" "$OPEN_CAF"
ORDER=$(create_order "$USER_ID" "port-open")
stranger -- 127.0.0.1 "$OPEN_CAF" fetch "$ORDER"
check "a stranger reaches an insecure node ($STRANGER_OUT)" eq "$STRANGER_RC" 0

finish
