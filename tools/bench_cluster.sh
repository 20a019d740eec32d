#!/usr/bin/env bash
# Many nodes (./dev.sh bench runs this after tools/bench.sh; alone: ./dev.sh with-stack
# bash tools/bench_cluster.sh after a build). For 1, 2 and 3 nodes on this machine, all
# against one database and one consumer group: durable create-order throughput with wrk
# spread over the nodes (one wrk per node in parallel, the 64 connections divided), reads
# of existing orders by id spread the same way (never forwarded: another node's order is
# read from PostgreSQL), and saga events produced as CONTRACT §5 says (murmur2 of the
# order id), with the share of them forwarded to another node (0 expected: each is
# consumed by its owner). With three nodes, the hand-off times: from a SIGKILL of one node
# until the survivors own every shard, and from the start of a fourth until it owns its
# shards (both bounded by the session timeout + 5 s). Several nodes run twice: in
# plaintext (CLUSTER_INSECURE=1) and over mutual TLS (CLUSTER_TLS_*, a throwaway CA from
# tools/cluster_certs.sh), side by side (BENCH_CLUSTER_RUNS picks, e.g. "3:plain 3:tls").
# Every node, wrk, PostgreSQL and the broker share the same cores: on a 2-core machine
# this measures the cost of more processes, not the scaling of the design.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
: "${DATABASE_URL:?run through ./dev.sh bench or ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"

TMP=$(mktemp -d)
PIDS=()
stop_nodes() {
  stop_pids "${PIDS[@]}"
  PIDS=()
}
cleanup() {
  stop_nodes
  rm -rf "$TMP"
}
trap cleanup EXIT

DB=$(migrated_db "$DATABASE_URL" "bench_cluster_$$" "$BIN")

PORTS=()
start_nodes() { # N
  local i
  PORTS=()
  for ((i = 1; i <= $1; i++)); do
    PORTS+=("$(free_port)")
    local transport=(CLUSTER_INSECURE=1)
    [[ $TRANSPORT == tls ]] && transport=(CLUSTER_TLS_CA="$TMP/certs/ca.pem"
      CLUSTER_TLS_CERT="$TMP/certs/bench-node-$i.pem" CLUSTER_TLS_KEY="$TMP/certs/bench-node-$i.key")
    env DATABASE_URL="$DB" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:${PORTS[i - 1]}" \
      ORDER_ROLES="${ROLES:-http}" KAFKA_GROUP_ID="$SAGA_GROUP" NODE_ID="bench-node-$i" \
      KAFKA_SESSION_TIMEOUT_MS="$SESSION_MS" \
      LOG_LEVEL=info "${transport[@]}" "$BIN" serve >"$TMP/node-$i.log" 2>&1 &
    PIDS+=($!)
  done
  local port
  for port in "${PORTS[@]}"; do wait_until 30 ready_at "http://127.0.0.1:$port" || true; done
  # Every node sees all of them (the directory is complete) and the shards are spread.
  for port in "${PORTS[@]}"; do
    wait_until 10 live_nodes_are "$port" "$1" ||
      { tail -n 20 "$TMP"/node-*.log >&2; echo "bench-cluster: nodes did not meet" >&2; exit 1; }
  done
  wait_until 60 all_owned || { echo "bench-cluster: the shards were not assigned" >&2; exit 1; }
}

SESSION_MS=${BENCH_SESSION_MS:-10000}
SHARDS=8 # the partitions of inventory.v1.events (tools/apache_kafka.sh, the embedded broker)
all_owned() { [[ $(sum_metric cluster_shards_owned) == "$SHARDS" ]]; }
live_nodes_are() { [[ $(metric "$1" cluster_nodes_live) == "$2" ]]; } # PORT N

metric() { # PORT NAME
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}
sum_metric() {
  local port sum=0
  for port in "${PORTS[@]}"; do sum=$((sum + $(metric "$port" "$1"))); done
  echo "$sum"
}

# wrk_spread SCRIPT: one wrk per node in parallel; prints "requests/s non2xx requests".
wrk_spread() {
  local script=$1 n=${#PORTS[@]} i
  local c=$((CONNECTIONS / n)) wrks=()
  rm -f "$TMP"/wrk-*.txt
  for ((i = 0; i < n; i++)); do
    wrk -t1 -c"$c" -d"${DURATION}s" -s "$script" "http://127.0.0.1:${PORTS[i]}" -- "$i" \
      >"$TMP/wrk-$i.txt" &
    wrks+=($!)
  done
  wait "${wrks[@]}"
  cat "$TMP"/wrk-*.txt | awk '
    /^Requests\/sec:/ { rps += $2 }
    /Non-2xx or 3xx responses:/ { bad += $5 }
    /requests in/ { total += $1 }
    END { printf "%.0f %d %d\n", rps, bad, total }'
}

# Creates: tools/bench/create_order.lua, told its wrk instance so that parallel wrk
# processes started in the same second send different keys (creates, not replays).
cp tools/bench/create_order.lua "$TMP/create.lua"

# Reads: GET /api/v1/orders/{id} over ids taken from the database.
cat >"$TMP/get.lua" <<EOF
local ids = {}
function init(args)
  for line in io.lines("$TMP/ids") do ids[#ids + 1] = line end
  math.randomseed(os.time() * 1000 + tonumber(args[1] or "0"))
end
request = function()
  return wrk.format("GET", "/api/v1/orders/" .. ids[math.random(1, #ids)])
end
EOF

# -- saga events: BENCH_CLUSTER_SAGA_ORDERS orders per round, inserted as CREATED; the
# nodes (roles http,consumer, one consumer group across rounds) start first and settle
# (partitions assigned, nothing left to consume), then one INVENTORY_RESERVED per order
# is produced. The rate is the round's events over the span of their inbox rows.
SAGA_ORDERS=${BENCH_CLUSTER_SAGA_ORDERS:-10000}
SAGA_GROUP=bench_cluster_$$
q() { sql "$DB" "$1"; }

settled() {
  all_owned || return 1
  local port
  for port in "${PORTS[@]}"; do
    [[ $(metric "$port" saga_consumer_lag) == 0 && $(metric "$port" saga_consumer_in_flight) == 0 ]] ||
      return 1
  done
}

saga_round() { # N: prints events/s and span
  local n=$1 tag="bench-saga-$1-$TRANSPORT-" t done=0
  q "INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, currency,
       total_amount, created_at, updated_at, expired_at)
     SELECT gen_random_uuid(), gen_random_uuid(), '$tag' || g, 'h', 'CREATED', 'EUR', 2500,
       now(), now(), now() + interval '1 hour'
     FROM generate_series(1, $SAGA_ORDERS) g" >/dev/null
  q "INSERT INTO order_items (order_id, line_no, sku_id, quantity, price)
     SELECT id, 1, 'sku-1', 2, 1250 FROM orders WHERE idempotency_key LIKE '$tag%'" >/dev/null
  q "INSERT INTO order_deadlines (due_at, order_id, shard)
     SELECT expired_at, id, 0 FROM orders WHERE idempotency_key LIKE '$tag%'" >/dev/null
  q "SELECT id FROM orders WHERE idempotency_key LIKE '$tag%'" >"$TMP/saga-ids"
  # Twice, a second apart: a rebalance in progress can look settled for a moment.
  for t in $(seq 120); do settled && sleep 1 && settled && break; sleep 0.5; done
  settled || { echo "bench-cluster: the consumer group did not settle" >&2; exit 1; }
  # Event id: the order's (random) id with three hex digits replaced, as in bench_saga.sh.
  awk -v now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" '
    { printf "%s|{\"event_id\":\"%s\",\"event_type\":\"INVENTORY_RESERVED\",\"occurred_at\":\"%s\",\"schema_version\":1,\"payload\":{\"order_id\":\"%s\",\"items\":[{\"item_id\":\"sku-1\",\"quantity\":2}],\"reservation_expires_at\":\"2030-01-01T00:00:00.000Z\"}}\n", $1, substr($1, 1, 15) "e1e" substr($1, 19), now, $1 }
  ' "$TMP/saga-ids" |
    kcat -P -b "$KAFKA_BROKERS" -t inventory.v1.events -K '|' -H event_type=INVENTORY_RESERVED -X linger.ms=50 \
      -X partitioner=murmur2_random # CONTRACT §5: as Kafka's Java client partitions
  for t in $(seq 3000); do
    done=$(q "SELECT count(*) FROM processed_events p JOIN orders o ON o.id = p.order_id
              WHERE o.idempotency_key LIKE '$tag%'")
    ((done >= SAGA_ORDERS)) && break
    sleep 0.1
  done
  ((done >= SAGA_ORDERS)) || { echo "bench-cluster: only $done saga events applied" >&2; exit 1; }
  q "SELECT round(count(*) / greatest(extract(epoch FROM max(processed_at) - min(processed_at)), 0.001)),
            round(extract(epoch FROM max(processed_at) - min(processed_at))::numeric, 2)
     FROM processed_events p JOIN orders o ON o.id = p.order_id WHERE o.idempotency_key LIKE '$tag%'"
}

# handoff_times: with the nodes running, SIGKILL the last one and time until the others
# own every shard; then start a fourth and time until it owns shards and all are active.
handoff_times() {
  local t0 killed=${PIDS[-1]}
  t0=$(date +%s.%N)
  kill -KILL "$killed"
  wait "$killed" 2>/dev/null || true
  PIDS=("${PIDS[@]:0:${#PIDS[@]}-1}")
  PORTS=("${PORTS[@]:0:${#PORTS[@]}-1}")
  wait_until 60 all_owned || { echo "bench-cluster: shards not taken over" >&2; exit 1; }
  KILL_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  local port
  port=$(free_port)
  t0=$(date +%s.%N)
  env DATABASE_URL="$DB" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:$port" \
    ORDER_ROLES=http,consumer KAFKA_GROUP_ID="$SAGA_GROUP" KAFKA_SESSION_TIMEOUT_MS="$SESSION_MS" \
    CLUSTER_INSECURE=1 LOG_LEVEL=info "$BIN" serve >"$TMP/node-join.log" 2>&1 &
  PIDS+=($!)
  PORTS+=("$port")
  joined() { [[ $(metric "$port" cluster_shards_owned) -ge 1 ]] && all_owned; }
  wait_until 60 joined || { echo "bench-cluster: the new node got no shard" >&2; exit 1; }
  JOIN_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

sh tools/cluster_certs.sh "$TMP/certs" bench-node-1 bench-node-2 bench-node-3
RESULTS=()
HANDOFF=()
for run in ${BENCH_CLUSTER_RUNS:-1:plain 2:plain 2:tls 3:plain 3:tls}; do
  n=${run%%:*} TRANSPORT=${run#*:}
  label=$TRANSPORT
  ((n > 1)) || label=—
  echo "bench-cluster: $n node(s), $label" >&2
  start_nodes "$n"
  DURATION=3 wrk_spread "$TMP/create.lua" >/dev/null # warm-up
  read -r create_rps create_bad _ < <(wrk_spread "$TMP/create.lua")
  q "SELECT id FROM orders ORDER BY random() LIMIT 20000" >"$TMP/ids"
  read -r get_rps get_bad get_total < <(wrk_spread "$TMP/get.lua")
  echo "bench-cluster: $n node(s), $label: creates ${create_rps}/s (non-2xx $create_bad), gets ${get_rps}/s (non-2xx $get_bad)" >&2
  RESULTS+=("| $n | $label | $create_rps | $get_rps |")
  [[ $create_bad == 0 && $get_bad == 0 ]] || { echo "bench-cluster: errors answered" >&2; exit 1; }
  stop_nodes
  ROLES=http,consumer start_nodes "$n"
  fwd_before=$(sum_metric 'cluster_forwarded_total{command="event"}')
  IFS='|' read -r saga_rps saga_span < <(saga_round "$n")
  saga_fwd=$(($(sum_metric 'cluster_forwarded_total{command="event"}') - fwd_before))
  saga_share=$(awk -v f="$saga_fwd" -v t="$SAGA_ORDERS" 'BEGIN { printf "%.0f", 100 * f / t }')
  echo "bench-cluster: $n node(s), $label: $SAGA_ORDERS saga events in ${saga_span}s = ${saga_rps}/s, forwarded ${saga_share}%" >&2
  RESULTS[-1]+=" $saga_rps | $saga_share % |"
  if ((n == 3)) && [[ $TRANSPORT == plain ]]; then
    handoff_times
    echo "bench-cluster: SIGKILL of a node: every shard active again after ${KILL_S}s; a fourth node owned its shards after ${JOIN_S}s (session timeout $((SESSION_MS / 1000))s)" >&2
    HANDOFF+=("| SIGKILL of one of 3 nodes → every shard active | ${KILL_S} s |" "| a 4th node joins → it owns its shards, all active | ${JOIN_S} s |")
  fi
  stop_nodes
done

printf '\n## Many nodes on one machine (%s s per run, %s connections spread over the nodes)\n\n' \
  "$DURATION" "$CONNECTIONS"
printf '| nodes | between nodes | creates/s | gets/s | saga events/s | events forwarded |\n|---|---|---|---|---|---|\n'
printf '%s\n' "${RESULTS[@]}"
if ((${#HANDOFF[@]})); then
  printf '\n| hand-off (session timeout %s s) | time |\n|---|---|\n' "$((SESSION_MS / 1000))"
  printf '%s\n' "${HANDOFF[@]}"
fi
printf '\n%s cores; every node, wrk, PostgreSQL (durable) and the broker share them.\n' "$(nproc)"
