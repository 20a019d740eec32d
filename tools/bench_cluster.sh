#!/usr/bin/env bash
# Many nodes (./dev.sh bench runs this after tools/bench.sh; alone: ./dev.sh with-stack
# bash tools/bench_cluster.sh after a build). For 1, 2 and 3 nodes on this machine, all
# against one database: durable create-order throughput with wrk spread over the nodes
# (one wrk per node in parallel, the 64 connections divided), then reads of existing
# orders by id spread the same way, with the share of them forwarded to the owning node
# (cluster_forwarded_total) — (N-1)/N expected with random spreading. Several nodes run
# twice: in plaintext (CLUSTER_INSECURE=1) and over mutual TLS (CLUSTER_TLS_*, a throwaway
# CA from tools/cluster_certs.sh), side by side (BENCH_CLUSTER_RUNS picks, e.g. "3:plain
# 3:tls"). Every node, wrk,
# PostgreSQL and the broker share the same cores: on a 2-core machine this measures the
# cost of more processes, not the scaling of the design.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
: "${DATABASE_URL:?run through ./dev.sh bench or ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"

TMP=$(mktemp -d)
PIDS=()
stop_nodes() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_nodes
  rm -rf "$TMP"
}
trap cleanup EXIT

NAME=bench_cluster_$$
DB="${DATABASE_URL%/*}/$NAME"
psql -q "$DATABASE_URL" -c "CREATE DATABASE $NAME" >/dev/null
DATABASE_URL=$DB "$BIN" migrate up >/dev/null

free_port() { # below the ephemeral range, not in use
  local p
  while :; do
    p=$((15000 + RANDOM % 17000))
    [[ -z $(ss -tanH "sport = :$p" 2>/dev/null) ]] && { echo "$p"; return; }
  done
}

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
      LOG_LEVEL=info "${transport[@]}" "$BIN" serve >"$TMP/node-$i.log" 2>&1 &
    PIDS+=($!)
  done
  local port t
  for port in "${PORTS[@]}"; do
    for t in $(seq 300); do
      curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
      sleep 0.1
    done
  done
  # Every node sees all of them (the routing table is complete).
  for port in "${PORTS[@]}"; do
    for t in $(seq 100); do
      [[ $(metric "$port" cluster_nodes_live) == "$1" ]] && break
      sleep 0.1
    done
    [[ $(metric "$port" cluster_nodes_live) == "$1" ]] ||
      { tail -n 20 "$TMP"/node-*.log >&2; echo "bench-cluster: nodes did not meet" >&2; exit 1; }
  done
}

metric() { # PORT NAME
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
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
q() { psql -qtAX "$DB" -c "$1"; }

# Sum over the nodes of the partitions each was assigned last (16: two topics x 8).
assigned_partitions() {
  local i sum=0 last
  for ((i = 1; i <= ${#PORTS[@]}; i++)); do
    last=$(grep -o 'partitions assigned","partitions":"[0-9]*"' "$TMP/node-$i.log" | tail -n 1 |
      grep -o '[0-9]*"$' | tr -d '"')
    sum=$((sum + ${last:-0}))
  done
  echo "$sum"
}

settled() {
  [[ $(assigned_partitions) -ge 16 ]] || return 1
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
  q "INSERT INTO order_deadlines (due_at, order_id)
     SELECT expired_at, id FROM orders WHERE idempotency_key LIKE '$tag%'" >/dev/null
  q "SELECT id FROM orders WHERE idempotency_key LIKE '$tag%'" >"$TMP/saga-ids"
  # Twice, a second apart: a rebalance in progress can look settled for a moment.
  for t in $(seq 120); do settled && sleep 1 && settled && break; sleep 0.5; done
  settled || { echo "bench-cluster: the consumer group did not settle" >&2; exit 1; }
  # Event id: the order's (random) id with three hex digits replaced, as in bench_saga.sh.
  awk -v now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" '
    { printf "%s|{\"event_id\":\"%s\",\"event_type\":\"INVENTORY_RESERVED\",\"occurred_at\":\"%s\",\"schema_version\":1,\"payload\":{\"order_id\":\"%s\",\"items\":[{\"item_id\":\"sku-1\",\"quantity\":2}],\"reservation_expires_at\":\"2030-01-01T00:00:00.000Z\"}}\n", $1, substr($1, 1, 15) "e1e" substr($1, 19), now, $1 }
  ' "$TMP/saga-ids" |
    kcat -P -b "$KAFKA_BROKERS" -t inventory.v1.events -K '|' -H event_type=INVENTORY_RESERVED -X linger.ms=50
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

sh tools/cluster_certs.sh "$TMP/certs" bench-node-1 bench-node-2 bench-node-3
RESULTS=()
for run in ${BENCH_CLUSTER_RUNS:-1:plain 2:plain 2:tls 3:plain 3:tls}; do
  n=${run%%:*} TRANSPORT=${run#*:}
  label=$TRANSPORT
  ((n > 1)) || label=—
  echo "bench-cluster: $n node(s), $label" >&2
  start_nodes "$n"
  DURATION=3 wrk_spread "$TMP/create.lua" >/dev/null # warm-up
  read -r create_rps create_bad _ < <(wrk_spread "$TMP/create.lua")
  psql -qtAX "$DB" -c "SELECT id FROM orders ORDER BY random() LIMIT 20000" >"$TMP/ids"
  fwd_before=$(sum_metric 'cluster_forwarded_total{command="fetch"}')
  read -r get_rps get_bad get_total < <(wrk_spread "$TMP/get.lua")
  fwd=$(($(sum_metric 'cluster_forwarded_total{command="fetch"}') - fwd_before))
  fallbacks=$(sum_metric cluster_forward_fallbacks_total)
  share=$(awk -v f="$fwd" -v t="$get_total" 'BEGIN { printf "%.0f", t ? 100 * f / t : 0 }')
  echo "bench-cluster: $n node(s), $label: creates ${create_rps}/s (non-2xx $create_bad), gets ${get_rps}/s (non-2xx $get_bad), forwarded ${share}% of $get_total gets, fallbacks $fallbacks" >&2
  RESULTS+=("| $n | $label | $create_rps | $get_rps | $share % | $fallbacks |")
  [[ $create_bad == 0 && $get_bad == 0 ]] || { echo "bench-cluster: errors answered" >&2; exit 1; }
  stop_nodes
  ROLES=http,consumer start_nodes "$n"
  fwd_before=$(sum_metric 'cluster_forwarded_total{command="event"}')
  IFS='|' read -r saga_rps saga_span < <(saga_round "$n")
  saga_fwd=$(($(sum_metric 'cluster_forwarded_total{command="event"}') - fwd_before))
  saga_share=$(awk -v f="$saga_fwd" -v t="$SAGA_ORDERS" 'BEGIN { printf "%.0f", 100 * f / t }')
  echo "bench-cluster: $n node(s), $label: $SAGA_ORDERS saga events in ${saga_span}s = ${saga_rps}/s, forwarded ${saga_share}%" >&2
  RESULTS[-1]+=" $saga_rps | $saga_share % |"
  stop_nodes
done

printf '\n## Many nodes on one machine (%s s per run, %s connections spread over the nodes)\n\n' \
  "$DURATION" "$CONNECTIONS"
printf '| nodes | between nodes | creates/s | gets/s | gets forwarded | fallbacks | saga events/s | events forwarded |\n|---|---|---|---|---|---|---|---|\n'
printf '%s\n' "${RESULTS[@]}"
printf '\n%s cores; every node, wrk, PostgreSQL (durable) and the broker share them.\n' "$(nproc)"
