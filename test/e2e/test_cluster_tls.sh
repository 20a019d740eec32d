#!/usr/bin/env bash
# Nodes trust only nodes (CONTRACT §7, issue 13): two nodes with mutual TLS of one CA.
# A stranger on their cluster port — a plain CAF client, and a TLS client with a
# certificate of another CA — gets no answer to a fetch, a cancel or a saga event, and
# the order is untouched afterwards; a client with a certificate of the nodes' CA does
# get answers, and what it sends is checked. A node of another CA cannot join and its
# log says why. The cluster port is bound to CLUSTER_HOST. A second node in plaintext
# refuses to start without CLUSTER_INSECURE=1, and bad PEM files stop a node with one
# line naming the variable (a single node restarted right after a crash, its old row
# still live, does start). For contrast, a stranger does cancel an order of a node
# that runs with CLUSTER_INSECURE=1.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/cluster_tls_lib.sh"

DB=$(fresh_database)
CERTS=$E2E_TMP/certs
OTHER=$E2E_TMP/other-ca
make_certs "$CERTS" node-1 node-2 friend
make_certs "$OTHER" rogue stranger
NODE_ENV=(CLUSTER_HEARTBEAT_MS=300
  CLUSTER_TIMEOUT_MS=1500 OUTBOX_RELAYS=1)

declare -A PORT PID
start_node() { # N CERT_DIR CERT_NAME
  PORT[$1]=$(free_port)
  # shellcheck disable=SC2046
  start_service "$DB" "${PORT[$1]}" NODE_ID="$1" "${NODE_ENV[@]}" $(tls_env "$2" "$3")
  PID[$1]=$SERVICE_PID
}
on() { BASE="http://127.0.0.1:${PORT[$1]}"; }
live_nodes_are() { [[ $(on "$1" && metric cluster_nodes_live) == "$2" ]]; }

start_node node-1 "$CERTS" node-1
start_node node-2 "$CERTS" node-2
for n in node-1 node-2; do
  on "$n"
  wait_for 30 "$n readyz 200" ready
  check "$n sees both TLS nodes" wait_for 15 "$n: 2 live nodes" live_nodes_are "$n" 2
done
# node-1 mints the order below in a shard it owns, and while the two nodes' group
# settles it may own none for a moment (503, DESIGN "Many nodes"): wait for one.
owns_some() { (($(on "$1" && metric cluster_shards_owned) >= 1)); }
check "node-1 owns a shard" wait_for 30 "node-1 owns a shard" owns_some node-1

# --- the cluster port listens on CLUSTER_HOST (127.0.0.1 here), not every interface
P1=$(caf_port "$DB" node-1)
P2=$(caf_port "$DB" node-2)
check "the cluster port listens on 127.0.0.1 only" eq \
  "$(ss -ltnH "sport = :$P1" | awk '{print $4}' | sort -u)" "127.0.0.1:$P1"

USER_ID=$(uuid)
on node-1
ORDER=$(create_order "$USER_ID" "tls-1")
check "an order" test -n "$ORDER"

# --- strangers get nothing from either node
for port in "$P1" "$P2"; do
  for cmd in fetch cancel event; do
    stranger -- 127.0.0.1 "$port" "$cmd" "$ORDER" INVENTORY_RESERVED
    check "plain CAF client, $cmd on :$port: no answer ($STRANGER_OUT)" \
      test "$STRANGER_RC" -ne 0 -a "$STRANGER_RC" -ne 2
    check "plain CAF client, $cmd on :$port: not connected" \
      bash -c "! grep -q '^reply' <<<'$STRANGER_OUT'"
    # shellcheck disable=SC2046
    stranger $(tls_env "$OTHER" stranger) -- 127.0.0.1 "$port" "$cmd" "$ORDER" INVENTORY_RESERVED
    check "TLS client of another CA, $cmd on :$port: no answer ($STRANGER_OUT)" \
      test "$STRANGER_RC" -ne 0 -a "$STRANGER_RC" -ne 2
  done
done
check "the order is untouched: CREATED" eq "$(order_status "$DB" "$ORDER")" CREATED/
check "no saga event took effect" eq "$(inbox_count "$DB" "$ORDER")" 0
check "no event but ORDER_CREATED" eq "$(sql "$DB" "SELECT string_agg(event_type, ',')
  FROM outbox_events WHERE aggregate_id = '$ORDER'")" ORDER_CREATED
on node-2
req GET "/api/v1/orders/$ORDER" ''
check "read through node-2 still CREATED" eq "$STATUS/$(json .data.status)" 200/CREATED

# --- a client with a certificate of the nodes' CA is answered, and checked
# shellcheck disable=SC2046
stranger $(tls_env "$CERTS" friend) -- 127.0.0.1 "$P2" fetch "$ORDER"
check "TLS client of the nodes' CA is answered ($STRANGER_OUT)" \
  eq "$STRANGER_RC/$(grep '^reply' <<<"$STRANGER_OUT")" "0/reply: ok order $ORDER status CREATED"
# shellcheck disable=SC2046
stranger $(tls_env "$CERTS" friend) -- 127.0.0.1 "$P2" fetch "NOT-A-UUID"
check "a malformed order id from a peer is refused ($STRANGER_OUT)" \
  eq "$STRANGER_RC/$(grep -o '^reply: error [A-Z_]*' <<<"$STRANGER_OUT")" "0/reply: error INVALID_REQUEST"
# shellcheck disable=SC2046
stranger $(tls_env "$CERTS" friend) -- 127.0.0.1 "$P2" event "$ORDER" NO_SUCH_EVENT
check "an event of unknown type from a peer is dropped ($STRANGER_OUT)" test "$STRANGER_RC" -eq 4
check "the order is still CREATED" eq "$(order_status "$DB" "$ORDER")" CREATED/

# --- a node of another CA cannot join, and says why
start_node rogue "$OTHER" rogue
on rogue
wait_for 30 "rogue readyz 200" ready
ROGUE_LOG=$E2E_TMP/service-${PORT[rogue]}.log
check "the rogue node says why it cannot join" wait_for 15 "the rogue's reason" \
  grep -q "not signed by CLUSTER_TLS_CA" "$ROGUE_LOG"
check "the rogue sees only itself" live_nodes_are rogue 1
for n in node-1 node-2; do
  check "$n still has 2 nodes (has $(on "$n" && metric cluster_nodes_live))" live_nodes_are "$n" 2
  check "$n says why the rogue is no peer" wait_for 15 "$n's reason" \
    grep -q '"peer":"rogue".*not signed by CLUSTER_TLS_CA' "$E2E_TMP/service-${PORT[$n]}.log"
done
kill "${PID[rogue]}"
wait "${PID[rogue]}" 2>/dev/null || true

# --- several nodes in plaintext refuse to start without CLUSTER_INSECURE=1
PLAIN_PORT=$(free_port)
set +e
PLAIN_OUT=$(env DATABASE_URL="$DB" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:$PLAIN_PORT" \
  NODE_ID=plain "${NODE_ENV[@]}" timeout 60 "$FLASHSALE_BIN" serve 2>&1)
PLAIN_RC=$?
set -e
check "a plaintext node beside TLS nodes exits 1 (got $PLAIN_RC)" eq "$PLAIN_RC" 1
check "with one line naming CLUSTER_INSECURE" \
  eq "$(grep -c 'CLUSTER_INSECURE' <<<"$PLAIN_OUT")" 1
check "the line names a live node" grep -q 'node node-[12] is live' <<<"$PLAIN_OUT"

# --- but one node SIGKILLed and started again at once (a new pid, so a new default
# NODE_ID, while the old row is still live) starts: the old row lapses
DB3=$(fresh_database)
PORT[solo]=$(free_port)
start_service "$DB3" "${PORT[solo]}" "${NODE_ENV[@]}" KAFKA_SESSION_TIMEOUT_MS=6000
on solo
wait_for 30 "solo node readyz 200" ready
kill -KILL "$SERVICE_PID"
wait "$SERVICE_PID" 2>/dev/null || true
PORT[solo]=$(free_port)
# (its first answer from the group comes once the killed member's session has lapsed)
start_service "$DB3" "${PORT[solo]}" "${NODE_ENV[@]}" KAFKA_SESSION_TIMEOUT_MS=6000
on solo
check "a single node restarted after SIGKILL starts in plaintext" wait_for 30 "restarted solo readyz" ready

# --- bad PEM files stop a node at start with one line naming the variable
bad_start() { # VARIABLE then VAR=value...: exits 1, one line naming VARIABLE
  local variable=$1 out rc
  shift
  set +e
  out=$(env DATABASE_URL="$DB" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:$(free_port)" \
    NODE_ID=bad "$@" timeout 30 "$FLASHSALE_BIN" serve 2>&1)
  rc=$?
  set -e
  [[ ($rc == 1 || $rc == 2) && $(grep -c . <<<"$out") == 1 ]] && grep -q "$variable" <<<"$out" ||
    { echo "got rc=$rc: $out" >&2; return 1; }
}
check "missing CA file" bad_start CLUSTER_TLS_CA CLUSTER_TLS_CA=/nonexistent/ca.pem \
  CLUSTER_TLS_CERT="$CERTS/node-1.pem" CLUSTER_TLS_KEY="$CERTS/node-1.key"
check "CERT missing while the others are set" bad_start CLUSTER_TLS_CERT \
  CLUSTER_TLS_CA="$CERTS/ca.pem" CLUSTER_TLS_KEY="$CERTS/node-1.key"
check "a key that is no PEM" bad_start CLUSTER_TLS_KEY CLUSTER_TLS_CA="$CERTS/ca.pem" \
  CLUSTER_TLS_CERT="$CERTS/node-1.pem" CLUSTER_TLS_KEY="$FLASHSALE_BIN"
check "a key of another certificate" bad_start CLUSTER_TLS_KEY CLUSTER_TLS_CA="$CERTS/ca.pem" \
  CLUSTER_TLS_CERT="$CERTS/node-1.pem" CLUSTER_TLS_KEY="$CERTS/node-2.key"

# --- contrast: with CLUSTER_INSECURE=1 a stranger can cancel (what TLS prevents above)
DB2=$(fresh_database)
PORT[open]=$(free_port)
start_service "$DB2" "${PORT[open]}" NODE_ID=open CLUSTER_INSECURE=1 "${NODE_ENV[@]}"
on open
wait_for 30 "open node readyz 200" ready
OPEN_ORDER=$(create_order "$USER_ID" "tls-open")
stranger -- 127.0.0.1 "$(caf_port "$DB2" open)" cancel "$OPEN_ORDER"
check "an insecure node answers a stranger ($STRANGER_OUT)" eq "$STRANGER_RC" 0
check "and the stranger's cancel took effect" eq "$(order_status "$DB2" "$OPEN_ORDER")" \
  CANCELLED/USER_CANCEL

finish
