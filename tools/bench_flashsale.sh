#!/usr/bin/env bash
# The flash-sale run (./dev.sh bench runs this after tools/bench.sh; alone:
# ./dev.sh with-stack bash tools/bench_flashsale.sh after a build): the service with
# all roles and the saga simulator; FLASH_ORDERS orders (20000) from FLASH_USERS users
# (5000) on FLASH_SKUS SKUs (50) whose total stock is FLASH_STOCK (5000), created
# over HTTP with wrk. Reports the p99 create latency and the time until every order is
# terminal (drained), and fails if an SKU is oversold by the simulator's books, an
# order is left non-terminal, or the books and the orders disagree.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
SIM=$BUILD/tools/flashsale-saga-sim
ORDERS=${FLASH_ORDERS:-20000}
USERS=${FLASH_USERS:-5000}
SKUS=${FLASH_SKUS:-50}
STOCK=${FLASH_STOCK:-5000}
DRAIN_TIMEOUT_S=${FLASH_DRAIN_TIMEOUT_S:-600}
: "${DATABASE_URL:?run through ./dev.sh bench or ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"
[[ -x $SIM ]] || { echo "bench-flash: $SIM is missing" >&2; exit 1; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  stop_pids "${PIDS[@]}"
  rm -rf "$TMP"
}
trap cleanup EXIT

NAME=bench_flash_$$
DB=$(migrated_db "$DATABASE_URL" "$NAME" "$BIN")
q() { sql "$DB" "$1"; }

# Short deadlines so that silent payments end too; the simulator answers within 0.5 s.
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
DATABASE_URL=$DB KAFKA_BROKERS=$KAFKA_BROKERS HTTP_ADDR=127.0.0.1:$PORT LOG_LEVEL=warn \
  KAFKA_GROUP_ID="$NAME" ORDER_TTL_CREATED_S=60 ORDER_TTL_RESERVED_S=30 \
  ORDER_TTL_PAYMENT_PENDING_S=10 "$BIN" serve >"$TMP/service.log" 2>&1 &
PIDS+=($!)
KAFKA_BROKERS=$KAFKA_BROKERS SIM_GROUP_ID="$NAME" SIM_SKUS=$SKUS \
  SIM_STOCK_PER_SKU=$((STOCK / SKUS)) SIM_PAYMENT_DELAY_MS=500 \
  "$SIM" --report "$TMP/books.json" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=($SIM_PID)
wait_until 30 ready_at "$BASE" || { cat "$TMP/service.log" >&2; exit 1; }
sleep 5 # both consumer groups joined (the broker's rebalance delay is 3 s)

echo "bench-flash: creating $ORDERS orders from $USERS users on $SKUS SKUs (stock $STOCK)" >&2
START=$(date +%s.%N)
# wrk runs for its whole duration even when every thread is done; SIGINT ends it early
# with the statistics of what was sent.
wrk -t2 -c64 -d600s --latency -s tools/bench/flashsale_order.lua "$BASE" \
  -- "$ORDERS" "$USERS" "$SKUS" 2 "$$-$RANDOM" >"$TMP/wrk.txt" &
WRK_PID=$!
PIDS+=($WRK_PID)
while kill -0 "$WRK_PID" 2>/dev/null && (($(q "SELECT count(*) FROM orders") < ORDERS)); do
  sleep 0.2
done
LOADED=$(date +%s.%N)
sleep 1 # the last answers
kill -INT "$WRK_PID" 2>/dev/null || true
wait "$WRK_PID" || true
CREATED=$(q "SELECT count(*) FROM orders")
[[ $CREATED == "$ORDERS" ]] || { cat "$TMP/wrk.txt" >&2; echo "bench-flash: $CREATED orders created" >&2; exit 1; }

left() { q "SELECT count(*) FROM orders WHERE status IN ('CREATED','RESERVED','PAYMENT_PENDING')"; }
deadline=$((SECONDS + DRAIN_TIMEOUT_S))
while (($(left) > 0)); do
  ((SECONDS < deadline)) || { echo "bench-flash: $(left) orders not terminal after ${DRAIN_TIMEOUT_S}s" >&2; exit 1; }
  sleep 1
done
DRAINED=$(date +%s.%N)
# The simulator's books settle once the last ORDER_* events reach it.
settled() { jq -e '[.skus[].reserved] | add == 0' "$TMP/books.json" >/dev/null 2>&1; }
for _ in $(seq 120); do settled && break; sleep 0.5; done
stop_pids "$SIM_PID"

P99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.txt" | to_ms 1)
P50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.txt" | to_ms 1)
ERRORS=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$TMP/wrk.txt")
PAID=$(q "SELECT count(*) FROM orders WHERE status = 'PAID'")
SOLD=$(jq '[.skus[] | select(.stock != null) | .sold] | add' "$TMP/books.json")
OVERSOLD=$(jq '.oversold' "$TMP/books.json")
WORST=$(jq '[.skus[] | select(.stock != null) | .sold - .stock] | max' "$TMP/books.json")

printf '\n## Flash sale: %s orders, %s users, %s SKUs, stock %s (saga simulator)\n\n' "$ORDERS" "$USERS" "$SKUS" "$STOCK"
printf '| what | value |\n|---|---|\n'
printf '| create load (wrk -t2 -c64) | %.1f s, %.0f orders/s |\n' "$(echo "$LOADED - $START" | bc)" "$(echo "$ORDERS / ($LOADED - $START)" | bc -l)"
printf '| create latency p50 / p99 | %s ms / %s ms |\n' "$P50" "$P99"
printf '| time to drain (start to every order terminal) | %.1f s |\n' "$(echo "$DRAINED - $START" | bc)"
printf '| orders by status (reason) | %s |\n' "$(q "SELECT string_agg(status || coalesce(' (' || reason || ')', '') || ' ' || n, ', ' ORDER BY status, reason) FROM (SELECT status, reason, count(*) n FROM orders GROUP BY 1, 2) s")"
printf '| last order to end: status (reason), created -> ended | %s |\n' "$(q "SELECT status || coalesce(' (' || reason || ')', '') || ', ' || round(extract(epoch FROM updated_at - created_at)) || ' s' FROM orders ORDER BY updated_at DESC LIMIT 1")"
printf '| units sold (books) / PAID orders | %s / %s |\n' "$SOLD" "$PAID"
printf '| oversold SKUs | %s (max sold - stock: %s) |\n' "$OVERSOLD" "$WORST"
[[ ${ERRORS:-0} == 0 ]] || { echo "bench-flash: $ERRORS create requests failed" >&2; exit 1; }
[[ $OVERSOLD == false ]] || { echo "bench-flash: the simulator oversold" >&2; exit 1; }
[[ $SOLD == "$PAID" ]] || { echo "bench-flash: books ($SOLD sold) and PAID orders ($PAID) differ" >&2; exit 1; }
