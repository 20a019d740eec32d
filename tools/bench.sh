#!/usr/bin/env bash
# The benchmark suite (./dev.sh bench). Runs inside a stack that dev.sh started with a
# durable PostgreSQL (fsync and synchronous_commit on) and the embedded Kafka broker:
# DATABASE_URL (admin database), KAFKA_BROKERS and FLASHSALE_BUILD_DIR are set.
#
# Durable create-order throughput: the service over HTTP (wrk, 64 connections, a unique
# idempotency key per request, 2 items) against PostgreSQL itself committing the same
# three inserts one order per transaction (pgbench, 32 clients), alternating rounds on
# the same server; medians and the ratio are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
: "${DATABASE_URL:?run through ./dev.sh bench}" "${KAFKA_BROKERS:?run through ./dev.sh bench}"

TMP=$(mktemp -d)
SERVICE_PID=
cleanup() {
  [[ -n $SERVICE_PID ]] && kill "$SERVICE_PID" 2>/dev/null && wait "$SERVICE_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

for setting in fsync synchronous_commit full_page_writes; do
  [[ $(psql -qtAX "$DATABASE_URL" -c "SHOW $setting") == on ]] ||
    { echo "bench: $setting is off; run through ./dev.sh bench" >&2; exit 1; }
done

DB="${DATABASE_URL%/*}/bench_$$"
psql -q "$DATABASE_URL" -c "CREATE DATABASE bench_$$" >/dev/null
DATABASE_URL=$DB "$BIN" migrate up >/dev/null

PORT=$((15000 + RANDOM % 17000)) # below the ephemeral port range
DATABASE_URL=$DB KAFKA_BROKERS=$KAFKA_BROKERS HTTP_ADDR=127.0.0.1:$PORT ORDER_ROLES=http \
  LOG_LEVEL=warn "$BIN" serve >"$TMP/service.log" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" || {
  cat "$TMP/service.log" >&2
  echo "bench: the service did not become ready" >&2
  exit 1
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# wrk prints latency percentiles with units (us, ms, s): normalise to ms.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f\n", v}'; }

run_wrk() {
  wrk -t2 -c64 -d"${DURATION}s" --latency -s tools/bench/create_order.lua \
    "http://127.0.0.1:$PORT" >"$TMP/wrk.txt"
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.txt" | to_ms)
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$TMP/wrk.txt")
  echo "$rps $p99 ${errors:-0}"
}

run_pgbench() {
  pgbench -n -c 32 -j 2 -T "$DURATION" -f tools/bench/pgbench_create_order.sql "$DB" \
    >"$TMP/pgbench.txt" 2>&1
  awk '/^tps = / {print $3; exit}' "$TMP/pgbench.txt" | grep . || { cat "$TMP/pgbench.txt" >&2; return 1; }
}

echo "bench: warming up the service (3 s)" >&2
DURATION=3 run_wrk >/dev/null

: >"$TMP/service.rps"; : >"$TMP/service.p99"; : >"$TMP/pg.tps"
for round in $(seq "$ROUNDS"); do
  read -r rps p99 errors < <(run_wrk)
  tps=$(run_pgbench)
  echo "bench: round $round: service ${rps} orders/s (p99 ${p99} ms, non-2xx ${errors}), pgbench ${tps} tps" >&2
  echo "$rps" >>"$TMP/service.rps"; echo "$p99" >>"$TMP/service.p99"; echo "$tps" >>"$TMP/pg.tps"
  [[ $errors == 0 ]] || { echo "bench: the service answered $errors requests with errors" >&2; exit 1; }
done

svc=$(median <"$TMP/service.rps")
p99=$(median <"$TMP/service.p99")
pg=$(median <"$TMP/pg.tps")
orders=$(psql -qtAX "$DB" -c "SELECT count(*) FROM orders")
events=$(psql -qtAX "$DB" -c "SELECT count(*) FROM outbox_events WHERE event_type='ORDER_CREATED'")

printf '\n## Durable create-order throughput (%s rounds of %s s, medians)\n\n' "$ROUNDS" "$DURATION"
printf '| what | orders/s | p99 latency |\n|---|---|---|\n'
printf '| service over HTTP (wrk -t2 -c64) | %.0f | %s ms |\n' "$svc" "$p99"
printf '| pgbench, 3 inserts per transaction (-c32) | %.0f | - |\n' "$pg"
printf '| ratio service / pgbench | %.2fx | |\n' "$(awk -v a="$svc" -v b="$pg" 'BEGIN {print a/b}')"
printf '\nrows: %s orders (service + pgbench), %s ORDER_CREATED outbox rows\n' "$orders" "$events"
[[ $orders == "$events" ]] || { echo "bench: orders and ORDER_CREATED rows differ" >&2; exit 1; }

# BENCH_EXTRAS=0: only the create-order comparison above.
[[ ${BENCH_EXTRAS:-1} == 1 ]] || exit 0
for extra in tools/bench_*.sh; do
  [[ -f $extra ]] || continue
  DATABASE_URL=$DATABASE_URL bash "$extra"
done
