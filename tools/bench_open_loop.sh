#!/usr/bin/env bash
# The open-loop run (issue 20; ./dev.sh bench runs it after tools/bench.sh, alone:
# ./dev.sh with-stack env STACK_PG_MODE=durable bash tools/bench_open_loop.sh after a
# build). Buyers arrive at a rate whatever the service answers: vegeta (tools/vegeta.sh,
# pinned, built from the Go module proxy into the cache) sends creates at a fixed rate
# in steps (OPEN_RATES, creates/s, OPEN_STEP_S s each) with a unique idempotency key per
# request, keep-alive, against the default roles on a fresh database, once per admission
# mode of OPEN_MODES (HTTP_ADMISSION: adaptive, static). Latency counts from the intended
# send time (tools/open_loop.py); the 201s and the refusals (503) are reported apart, and
# errors and timeouts (no answer within OPEN_TIMEOUT_S) are counted. CPU per 201 is the
# service's, PostgreSQL's and the broker's CPU time over the step (/proc) divided by its 201s.
# Then each mode's capacity (the highest step with >= 99.9 % 201 and p99 <= 100 ms) against
# pgbench one order per transaction on the same server (OPEN_PGBENCH=0 leaves it out).
# Before the first step the broker and the service are warmed up for OPEN_WARMUP_S s at
# OPEN_WARMUP_RATE/s (not reported).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
RATES=${OPEN_RATES:-1000 2000 4000 8000}
STEP_S=${OPEN_STEP_S:-10}
MODES=${OPEN_MODES:-adaptive static}
TIMEOUT_S=${OPEN_TIMEOUT_S:-30}
WARMUP_S=${OPEN_WARMUP_S:-5}
WARMUP_RATE=${OPEN_WARMUP_RATE:-200}
# vegeta's connections to the service; unset: as many as it likes (a new one whenever
# none is idle). Latency still counts from the intended send time, so a request that
# waits for a free connection is charged with its wait.
MAX_CONNS=${OPEN_MAX_CONNECTIONS:-}
# Orders already in the database before the first step (a real shop's table is not
# empty): paid orders of one line each, made in SQL, then VACUUM ANALYZE.
PREFILL=${OPEN_PREFILL_ORDERS:-0}
: "${DATABASE_URL:?run through ./dev.sh bench or ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"
VEGETA=$(bash tools/vegeta.sh fetch)
OPEN_LOOP="python3 tools/open_loop.py"

TMP=$(mktemp -d)
SERVICE_PID=
cleanup() {
  stop_pids ${SERVICE_PID:+"$SERVICE_PID"}
  rm -rf "$TMP"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# PostgreSQL's processes: the postmaster listening on DATABASE_URL's port and its children.
PG_PORT=$(sed -E 's|.*:([0-9]+)/[^/]*$|\1|' <<<"$DATABASE_URL")
PG_PID=$(ss -Hltnp "sport = :$PG_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
# cpu_ticks PID...: user+system ticks of those processes, with those of their children
# that have ended (cutime, cstime: a PostgreSQL backend that exits during a step counts).
cpu_ticks() {
  local p sum=0 t
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}' || echo 0)
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
pg_pids() { [[ -n $PG_PID ]] && { echo "$PG_PID"; ps -o pid= --ppid "$PG_PID"; }; }
HZ=$(getconf CLK_TCK)
# The broker dev.sh started (Apache Kafka's node 1), unless this pass is on another one
# (bench.sh's embedded pass runs with the embedded broker's address).
BROKER_PID=
[[ ${BENCH_BROKER:-apache} != apache ]] || BROKER_PID=${KAFKA_BROKER_PID:-}

row() { # MODE RATE: one step; prints a table row
  local mode=$1 rate=$2 prefix="ol$$-$1-$2"
  $OPEN_LOOP targets "$URL" "$USER_ID" "$prefix" $((rate * STEP_S + rate)) >"$TMP/targets"
  local svc0 pg0 kf0 svc1 pg1 kf1
  svc0=$(cpu_ticks "$SERVICE_PID") pg0=$(cpu_ticks $(pg_pids)) kf0=$(cpu_ticks $BROKER_PID)
  "$VEGETA" attack -format=json -targets="$TMP/targets" -rate="$rate" -duration="${STEP_S}s" \
    -timeout="${TIMEOUT_S}s" ${MAX_CONNS:+-max-connections="$MAX_CONNS"} >"$TMP/results.bin"
  svc1=$(cpu_ticks "$SERVICE_PID") pg1=$(cpu_ticks $(pg_pids)) kf1=$(cpu_ticks $BROKER_PID)
  "$VEGETA" encode --to json <"$TMP/results.bin" | $OPEN_LOOP summary "$rate" >"$TMP/summary.json"
  jq -r --arg mode "$mode" '"\($mode) \(.offered_per_s) \(.created_share) \(.p99_201_ms // 1e9) \(.errors + .timeouts)"' \
    "$TMP/summary.json" >>"$TMP/steps"
  local limit
  limit=$(curl -sS "$URL/metrics" | awk '$1 == "http_admission_limit" {print $2}')
  jq -r --arg mode "$mode" --arg limit "${limit:--}" --argjson svc $((svc1 - svc0)) \
    --argjson pg $((pg1 - pg0)) --argjson kf $((kf1 - kf0)) --arg broker "${BROKER_PID:+y}" \
    --argjson hz "$HZ" '
    def ms: if . == null then "-" else tostring end;
    def per(t): if (.status["201"] // 0) == 0 then "-"
      else ((t / $hz * 1000 / .status["201"]) * 1000 | round / 1000 | tostring) end;
    "| \($mode) | \(.offered_per_s) | \(.status["201"] // 0) (\(.created_share * 100 * 100 | round / 100) %) | \(.p50_201_ms | ms) / \(.p99_201_ms | ms) | \(.status["503"] // 0) | \(.p50_503_ms | ms) / \(.p99_503_ms | ms) | \(.errors) / \(.timeouts) | \([.status | to_entries[] | select(.key != "201" and .key != "503" and .key != "0") | "\(.key)×\(.value)"] | join(" ") | if . == "" then "-" else . end) | \(.max_send_lag_ms) | \(per($svc)) / \(per($pg)) / \(if $broker == "" then "-" else per($kf) end) | \($limit) |"' \
    "$TMP/summary.json"
}

# prefill URL N: N paid orders with one line each. History only: they are terminal, so
# no command reaches them, and their shard column (g % 8) is not their murmur2 shard.
prefill() {
  psql -qX "$1" -v ON_ERROR_STOP=1 -v n="$2" >/dev/null <<'SQL'
INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, currency,
                    total_amount, created_at, updated_at, shard, epoch)
SELECT gen_random_uuid(), gen_random_uuid(), 'prefill-' || g, 'prefill', 'PAID', 'EUR', 2500,
       now() - interval '1 day', now() - interval '1 day', g % 8, 0
FROM generate_series(1, :n) AS g;
INSERT INTO order_items (order_id, line_no, sku_id, quantity, price)
SELECT id, 1, 'sku-' || (abs(hashtext(id::text)) % 50), 2, 1250 FROM orders;
VACUUM ANALYZE orders;
VACUUM ANALYZE order_items;
SQL
}

printf '\n## Open loop [%s] (vegeta, %s s per step, default roles, database holding %s orders)\n\n' \
  "${BENCH_BROKER:-apache}" "$STEP_S" "$PREFILL"
printf '| admission | offered/s | 201 | p50 / p99 of 201 (ms) | 503 | p50 / p99 of 503 (ms) | errors / timeouts | other | max send lag (ms) | CPU ms per 201: service / PostgreSQL / broker | limit after |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for mode in $MODES; do
  NAME=bench_open_$$_$mode
  DB=$(migrated_db "$DATABASE_URL" "$NAME" "$BIN")
  ((PREFILL == 0)) || prefill "$DB" "$PREFILL"
  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT
  USER_ID=$(cat /proc/sys/kernel/random/uuid)
  DATABASE_URL=$DB KAFKA_BROKERS=$KAFKA_BROKERS HTTP_ADDR=127.0.0.1:$PORT HTTP_ADMISSION=$mode \
    KAFKA_GROUP_ID=bench-open-$$-$mode LOG_LEVEL=warn "$BIN" serve >>"$TMP/service.log" 2>&1 &
  SERVICE_PID=$!
  wait_until 30 ready_at "$URL" || { cat "$TMP/service.log" >&2; exit 1; }
  $OPEN_LOOP targets "$URL" "$USER_ID" "warm$$-$mode" $((WARMUP_RATE * WARMUP_S + WARMUP_RATE)) >"$TMP/targets"
  "$VEGETA" attack -format=json -targets="$TMP/targets" -rate="$WARMUP_RATE" \
    -duration="${WARMUP_S}s" -timeout="${TIMEOUT_S}s" >/dev/null
  for rate in $RATES; do row "$mode" "$rate"; done
  stop_pids "$SERVICE_PID"
  SERVICE_PID=
  psql -q "$DATABASE_URL" -c "DROP DATABASE $NAME" >/dev/null 2>&1 || true
done

# Capacity: the highest offered rate of a mode with >= 99.9 % 201, p99 of the 201s <= 100
# ms and no error or timeout; against pgbench committing the same rows one order per
# transaction (32 clients, STEP_S s) on the same server right after (OPEN_PGBENCH=0: not).
printf '
'
for mode in $MODES; do
  cap=$(awk -v m="$mode" '$1 == m && $3 >= 0.999 && $4 <= 100 && $5 == 0 { if ($2 > c) c = $2 } END { print c + 0 }' "$TMP/steps")
  echo "$mode $cap" >>"$TMP/capacity"
done
if [[ ${OPEN_PGBENCH:-1} == 1 ]]; then
  PG_NAME=bench_open_pg_$$
  PG_DB=$(migrated_db "$DATABASE_URL" "$PG_NAME" "$BIN")
  TPS=$(pgbench -n -c 32 -j 2 -T "$STEP_S" -f tools/bench/pgbench_create_order.sql "$PG_DB" 2>&1 |
    awk '/^tps = / {printf "%.0f", $3; exit}')
  psql -q "$DATABASE_URL" -c "DROP DATABASE $PG_NAME" >/dev/null 2>&1 || true
  while read -r mode cap; do
    awk -v m="$mode" -v c="$cap" -v t="${TPS:-0}" 'BEGIN { printf "capacity [%s]: %d creates/s (>= 99.9 %% 201, p99 <= 100 ms, of the steps run); pgbench one order per transaction: %d tps; capacity / pgbench %.2fx (target 2x)\n", m, c, t, (t > 0 ? c / t : 0) }'
  done <"$TMP/capacity"
else
  while read -r mode cap; do echo "capacity [$mode]: $cap creates/s (of the steps run)"; done <"$TMP/capacity"
fi
