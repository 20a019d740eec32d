#!/usr/bin/env bash
# Saga events applied per second from pre-filled topics (./dev.sh bench runs this after
# tools/bench.sh; alone: ./dev.sh with-stack bash tools/bench_saga.sh after a build).
#
# BENCH_SAGA_ORDERS orders (default 50000) are inserted as CREATED straight into a fresh
# database. Phase 1: one INVENTORY_RESERVED per order is produced to inventory.v1.events
# while the service is down; the service (roles http,consumer) starts with a new
# consumer group and applies them. Phase 2: the service stops, one
# PAYMENT_INTENT_CREATED per order is produced to payment.v1.events, and it starts
# again (same group) and applies those. The rate of a phase is its events over the
# time between the first and the last inbox row (processed_events.processed_at), so
# group joins and start-up do not count. Target: >= 10000 events/s.
# BENCH_LOG_LEVEL sets the service's LOG_LEVEL (default warn); BENCH_KEEP_LOG=FILE keeps
# the service log of a failed run.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
ORDERS=${BENCH_SAGA_ORDERS:-50000}
TIMEOUT_S=${BENCH_SAGA_TIMEOUT_S:-300}
: "${DATABASE_URL:?run through ./dev.sh bench or ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"

TMP=$(mktemp -d)
SERVICE_PID=
stop_service() {
  [[ -n $SERVICE_PID ]] || return 0
  stop_pids "$SERVICE_PID"
  SERVICE_PID=
}
cleanup() {
  stop_service
  rm -rf "$TMP"
}
trap cleanup EXIT

NAME=bench_saga_$$
DB=$(migrated_db "$DATABASE_URL" "$NAME" "$BIN")
q() { sql "$DB" "$1"; }

echo "bench-saga: inserting $ORDERS orders" >&2
q "INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, currency,
     total_amount, created_at, updated_at, expired_at)
   SELECT gen_random_uuid(), gen_random_uuid(), 'bench-' || g, 'h', 'CREATED', 'EUR', 2500,
     now(), now(), now() + interval '1 hour'
   FROM generate_series(1, $ORDERS) g" >/dev/null
q "INSERT INTO order_items (order_id, line_no, sku_id, quantity, price)
   SELECT id, 1, 'sku-1', 2, 1250 FROM orders" >/dev/null
q "INSERT INTO order_deadlines (due_at, order_id) SELECT expired_at, id FROM orders" >/dev/null
q "SELECT id FROM orders" >"$TMP/ids"

# fill TOPIC TYPE TAG PAYLOAD_MEMBERS: one event per order, "key|value" lines through
# kcat. An event id is its order's id (random) with three hex digits replaced by TAG, so
# the ids of one fill are unique and never meet another fill's (awk's random seed is
# no help here: mawk clamps seeds above 2^31, and two fills then drew the same ids).
fill() {
  local topic=$1 type=$2 tag=$3 members=$4 now
  now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
  awk -v type="$type" -v now="$now" -v members="$members" -v tag="$tag" '
    { id = substr($1, 1, 15) sprintf("%03x", tag) substr($1, 19)
      printf "%s|{\"event_id\":\"%s\",\"event_type\":\"%s\",\"occurred_at\":\"%s\",\"schema_version\":1,\"payload\":{\"order_id\":\"%s\",%s}}\n", $1, id, type, now, $1, members }
  ' "$TMP/ids" | kcat -P -b "$KAFKA_BROKERS" -t "$topic" -K '|' -H "event_type=$type" -X linger.ms=50
}

# Each phase starts on a quiet server: the benchmarks before this one leave it with a
# gigabyte of WAL, dirty buffers and tables for autovacuum (the outbox bench's 50 000
# updated rows are vacuumed at full speed, migration 000002), which would otherwise
# compete with the phase. Waits (60 s at most) until no autovacuum worker has run for
# a second, then checkpoints.
quiesce() {
  local t quiet=0
  for t in $(seq 120); do
    if [[ $(sql "$DATABASE_URL" "SELECT count(*) FROM pg_stat_activity
                                  WHERE backend_type = 'autovacuum worker'") == 0 ]]; then
      ((++quiet >= 2)) && break
    else
      quiet=0
    fi
    sleep 0.5
  done
  psql -qX "$DATABASE_URL" -c CHECKPOINT >/dev/null
}

start_service() {
  local port
  port=$(free_port)
  DATABASE_URL=$DB KAFKA_BROKERS=$KAFKA_BROKERS HTTP_ADDR=127.0.0.1:$port \
    ORDER_ROLES=http,consumer KAFKA_GROUP_ID="$NAME" LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} \
    "$BIN" serve >>"$TMP/service.log" 2>&1 &
  SERVICE_PID=$!
  METRICS_URL="http://127.0.0.1:$port/metrics"
}

# phase TYPE STATUS: waits until every order is in STATUS, prints events/s.
phase() {
  local type=$1 status=$2 deadline=$((SECONDS + TIMEOUT_S)) done=0
  while ((SECONDS < deadline)); do
    done=$(q "SELECT count(*) FROM processed_events WHERE event_type = '$type'")
    ((done >= ORDERS)) && break
    sleep 0.5
  done
  ((done >= ORDERS)) || {
    tail -n 20 "$TMP/service.log" >&2
    curl -fsS "$METRICS_URL" | grep -E '^(saga_|order_|db_)' | grep -v _bucket >&2 || true
    [[ -z ${BENCH_KEEP_LOG:-} ]] || cp "$TMP/service.log" "$BENCH_KEEP_LOG"
    echo "bench-saga: $type: only $done of $ORDERS applied within ${TIMEOUT_S}s" >&2
    exit 1
  }
  [[ $(q "SELECT count(*) FROM orders WHERE status = '$status'") == "$ORDERS" ]] ||
    { echo "bench-saga: not every order is $status" >&2; exit 1; }
  q "SELECT count(*) / greatest(extract(epoch FROM max(processed_at) - min(processed_at)), 0.001),
            extract(epoch FROM max(processed_at) - min(processed_at))
     FROM processed_events WHERE event_type = '$type'"
}

p99_of() { # histogram p99 in ms from /metrics
  curl -fsS "$METRICS_URL" | awk '
    /^saga_event_handle_seconds_bucket/ { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; les[n] = le; c[n] = $2 }
    /^saga_event_handle_seconds_count/ { total = $2 }
    END { for (i = 1; i <= n; i++) if (c[i] >= 0.99 * total) { printf "%.1f", les[i] * 1000; exit } }'
}

# run_phase TOPIC TYPE TAG PAYLOAD_MEMBERS STATUS LABEL: fills, applies, adds a row to
# ROWS (not in a subshell: the EXIT trap must know the service it started).
ROWS=()
run_phase() {
  local topic=$1 type=$2 tag=$3 members=$4 status=$5 label=$6 rate span p99
  echo "bench-saga: producing $ORDERS $type" >&2
  fill "$topic" "$type" "$tag" "$members"
  quiesce
  start_service
  IFS='|' read -r rate span < <(phase "$type" "$status")
  p99=$(p99_of)
  stop_service
  ROWS+=("$(printf '| %s | %s | %.2f s | %.0f | <= %s ms |' "$label" "$ORDERS" "$span" "$rate" "$p99")")
}

run_phase inventory.v1.events INVENTORY_RESERVED 1 \
  '"items":[{"item_id":"sku-1","quantity":2}],"reservation_expires_at":"2030-01-01T00:00:00.000Z"' \
  RESERVED "INVENTORY_RESERVED (CREATED -> RESERVED)"
run_phase payment.v1.events PAYMENT_INTENT_CREATED 2 \
  '"payment_intent_id":"bench","amount":25.00,"currency":"EUR","expires_at":"2030-01-01T00:00:00.000Z"' \
  PAYMENT_PENDING "PAYMENT_INTENT_CREATED (RESERVED -> PAYMENT_PENDING)"

printf '\n## Saga events applied from pre-filled topics (%s orders, durable PostgreSQL)\n\n' "$ORDERS"
printf '| phase | events | span | events/s | p99 consume->durable |\n|---|---|---|---|---|\n'
printf '%s\n' "${ROWS[@]}"
