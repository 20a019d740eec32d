#!/usr/bin/env bash
# The benchmark suite (./dev.sh bench). Runs inside a stack that dev.sh started with a
# durable PostgreSQL (fsync and synchronous_commit on) and Apache Kafka: DATABASE_URL
# (admin database), KAFKA_BROKERS and FLASHSALE_BUILD_DIR are set.
#
# Every benchmark runs once per broker of BENCH_BROKERS (default "apache embedded"):
# Apache Kafka from dev.sh first, then the embedded broker (librdkafka's mock cluster)
# started here, so that docs/BENCHMARKS.md can set the figures side by side.
#
# Durable create-order throughput, as users deploy the service: the default roles
# (http,relay,consumer,expiry) in one process, wrk with a unique idempotency key per
# request — as it is (HTTP/1.1 without a Connection header) and with explicit
# keep-alive — against PostgreSQL itself committing the same three inserts one order
# per transaction (pgbench, 32 clients, its own database on the same server), in
# alternating rounds. Per round: answered creates/s, p50/p99 latency, creates/s until
# the last ORDER_CREATED of the round is acknowledged by Kafka, and the p99 commit ->
# Kafka acknowledgement lag (these rounds keep delivered rows, OUTBOX_RETENTION_S=3600, to
# read those columns from them); the same rounds with the default record (rows deleted at
# delivery), creates/s and latency only; then the lag at about half that load; the
# http-only role as a second line; and a stampede of BENCH_STAMPEDE_CONNS (2 000) connections.
#
# The stampede (issue 12): flashsale-stampede (tools/stampede.cpp: epoll, two threads, a
# small cost per request beside the service it measures), whose connections each send
# creates one after the other and wait for every answer (a request started before the end
# of the run is awaited, so that "committed without a 201" counts real losses, not
# requests a load generator abandoned): first 64 connections (the reference goodput), then
# BENCH_STAMPEDE_CONNS with HTTP_MAX_IN_FLIGHT unbounded and with each bound of
# BENCH_STAMPEDE_BOUNDS. BENCH_ONLY=stampede runs only this part.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."

BUILD=${FLASHSALE_BUILD_DIR:-build}
BIN=$BUILD/flashsale-order
STAMPEDE=$BUILD/tools/flashsale-stampede
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
STAMPEDE_CONNS=${BENCH_STAMPEDE_CONNS:-2000}
STAMPEDE_BOUNDS=${BENCH_STAMPEDE_BOUNDS:-64 256 512 1024}
ONLY=${BENCH_ONLY:-}
: "${DATABASE_URL:?run through ./dev.sh bench}" "${KAFKA_BROKERS:?run through ./dev.sh bench}"
[[ -x $STAMPEDE ]] || { echo "bench: $STAMPEDE is missing (build flashsale-stampede)" >&2; exit 1; }

TMP=$(mktemp -d)
PIDS=()
SERVICE_PID=
cleanup() {
  stop_pids "${PIDS[@]}" ${SERVICE_PID:+"$SERVICE_PID"}
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- the driver: one pass per broker ----------------------------------------------
if [[ -z ${BENCH_BROKER:-} ]]; then
  for broker in ${BENCH_BROKERS:-apache embedded}; do
    case $broker in
    apache) BENCH_BROKER=apache bash "$0" "$@" ;;
    embedded)
      "$BUILD/tools/flashsale-kafka" >"$TMP/kafka.out" 2>"$TMP/kafka.log" </dev/null &
      PIDS+=($!)
      wait_until 10 grep -q '^KAFKA_BROKERS=' "$TMP/kafka.out" || true
      brokers=$(sed -n 's/^KAFKA_BROKERS=//p' "$TMP/kafka.out")
      [[ -n $brokers ]] || { cat "$TMP/kafka.log" >&2; echo "bench: no embedded broker" >&2; exit 1; }
      BENCH_BROKER=embedded KAFKA_BROKERS=$brokers bash "$0" "$@"
      kill "${PIDS[-1]}"
      ;;
    *) echo "bench: unknown broker '$broker' in BENCH_BROKERS" >&2; exit 2 ;;
    esac
  done
  exit 0
fi

printf '\n# Broker: %s (%s)\n' "$BENCH_BROKER" "$KAFKA_BROKERS"
export BENCH_BROKER

for setting in fsync synchronous_commit full_page_writes; do
  [[ $(psql -qtAX "$DATABASE_URL" -c "SHOW $setting") == on ]] ||
    { echo "bench: $setting is off; run through ./dev.sh bench" >&2; exit 1; }
done

DB=$(migrated_db "$DATABASE_URL" "bench_$$_$BENCH_BROKER" "$BIN")
# pgbench's rows stay out of the relays' way
[[ $ONLY == stampede ]] || PG_DB=$(migrated_db "$DATABASE_URL" "bench_pg_$$_$BENCH_BROKER" "$BIN")
q() { sql "$DB" "$1"; }

PORT=$(free_port)
URL=http://127.0.0.1:$PORT

# start_service ROLES: the service on $DB with those roles (the default: every role).
# Delivered outbox rows are kept (OUTBOX_RETENTION_S=3600, not the default 0, which
# deletes them at delivery and costs the database less): the acknowledgement columns
# and the closing check read them. So the rows below are measured on the costlier
# setting, but for one with the default record (BENCH_OUTBOX_RETENTION_S=0).
start_service() {
  stop_service
  OUTBOX_RETENTION_S=${BENCH_OUTBOX_RETENTION_S:-3600} \
  DATABASE_URL=$DB KAFKA_BROKERS=$KAFKA_BROKERS HTTP_ADDR=127.0.0.1:$PORT ORDER_ROLES=$1 \
    KAFKA_GROUP_ID=bench-$$-$BENCH_BROKER LOG_LEVEL=warn "$BIN" serve >>"$TMP/service.log" 2>&1 &
  SERVICE_PID=$!
  wait_until 30 ready_at "$URL" && return 0
  cat "$TMP/service.log" >&2
  echo "bench: the service did not become ready" >&2
  exit 1
}
stop_service() {
  [[ -n $SERVICE_PID ]] || return 0
  stop_pids "$SERVICE_PID"
  SERVICE_PID=
}

# run_stampede CONNS BOUND: the default roles with HTTP_MAX_IN_FLIGHT=BOUND, CONNS
# connections of flashsale-stampede for DURATION s. Prints a row of the stampede table.
run_stampede() {
  local conns=$1 bound=$2 prefix="st$$-$1-$2"
  HTTP_MAX_IN_FLIGHT=$bound start_service http,relay,consumer,expiry
  local user
  user=$(cat /proc/sys/kernel/random/uuid)
  "$STAMPEDE" --port "$PORT" --conns "$conns" --duration "$DURATION" \
    --prefix "$prefix" --user "$user" --out "$TMP/st.txt" >"$TMP/st.json" &
  local stampede=$! n=0
  # A probe beside the stampede, its own process (curl): the time a refusal takes
  # without the stampede client's own loop, to compare the client's refusal times with.
  : >"$TMP/st.probe"
  while kill -0 "$stampede" 2>/dev/null; do
    n=$((n + 1))
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 -X POST \
      -H 'Content-Type: application/json' -H "X-Idempotency-Key: $prefix-probe-$n" \
      --data-binary '{"user_id":"'"$user"'","currency":"EUR","total_amount":2,"items":[{"sku_id":"sku-1","quantity":2,"price":1}]}' \
      "$URL/api/v1/orders" >>"$TMP/st.probe" 2>/dev/null || true
    sleep 0.2
  done
  wait "$stampede"
  stop_service # whatever was still to commit has committed or rolled back
  q "SELECT idempotency_key FROM orders WHERE idempotency_key LIKE '$prefix-%'" | sort >"$TMP/st.db"
  awk '$2 == 201 {print $1}' "$TMP/st.txt" | sort >"$TMP/st.ok"
  local n_probe=0
  while read -r code _; do n_probe=$((n_probe + 1)); [[ $code == 201 ]] && echo "$prefix-probe-$n_probe"; done \
    <"$TMP/st.probe" >>"$TMP/st.ok"
  sort -o "$TMP/st.ok" "$TMP/st.ok"
  local probe_refused
  probe_refused=-
  grep -q '^503 ' "$TMP/st.probe" && probe_refused=$(awk '$1 == 503 {printf "%.1f\n", $2 * 1000}' "$TMP/st.probe" | median)
  probe_refused="$probe_refused ms ($(awk '$1 == 503' "$TMP/st.probe" | wc -l) of $(wc -l <"$TMP/st.probe"))"
  local ghosts missing unanswered label=$bound
  ghosts=$(comm -23 "$TMP/st.db" "$TMP/st.ok" | wc -l)
  missing=$(comm -13 "$TMP/st.db" "$TMP/st.ok" | wc -l)
  unanswered=$(awk '$2 == 0' "$TMP/st.txt" | wc -l)
  ((bound >= 1000000)) && label=unbounded
  echo "bench: [$BENCH_BROKER] stampede $conns conns, bound $label: $(cat "$TMP/st.json"), ghosts $ghosts, 201 without order $missing" >&2
  jq -r --arg c "$conns" --arg b "$label" --arg g "$ghosts" --arg m "$missing" --arg u "$unanswered" \
    --arg p "$probe_refused" \
    '"| \($c) | \($b) | \(.goodput_per_s) | \(.created_p50_ms) ms | \(.created_p99_ms) ms | \(.by_status["503"] // 0) | \(.refused_p50_ms // "-") ms | \(.refused_p99_ms // "-") ms | \($p) | \($u) | \($g) | \($m) |"' \
    "$TMP/st.json"
}

stampede_section() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  {
    printf '\n### Stampede [%s]: flashsale-stampede, %s s per row, default roles\n\n' "$BENCH_BROKER" "$DURATION"
    printf '| conns | HTTP_MAX_IN_FLIGHT | goodput (201/s) | p50 of 201 | p99 of 201 | refused 503 | refusal p50 | refusal p99 | refusal, curl probe (median) | no answer | committed without a 201 | 201 without an order |\n'
    printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
    run_stampede 64 1000000
    run_stampede "$STAMPEDE_CONNS" 1000000
    for bound in $STAMPEDE_BOUNDS; do run_stampede "$STAMPEDE_CONNS" "$bound"; done
  } >"$TMP/stampede.md"
}

if [[ $ONLY == stampede ]]; then
  stampede_section
  cat "$TMP/stampede.md"
  exit 0
fi


# Every ORDER_CREATED committed so far is acknowledged by Kafka (status SENT).
wait_drained() {
  local deadline=$((SECONDS + 120))
  while (($(q "SELECT count(*) FROM outbox_events WHERE status = 'PENDING'") > 0)); do
    ((SECONDS < deadline)) || { echo "bench: the outbox did not drain within 120 s" >&2; exit 1; }
    sleep 0.2
  done
}

# run_wrk CONNS LUA_ARGS [wrk options]: one round against $URL. Prints
# "rps p50 p99 non2xx acked_per_s lag_p99_ms socket_errors".
run_wrk() {
  local conns=$1 lua_args=$2
  shift 2
  local start
  start=$(q "SELECT now()")
  wrk -t2 -c"$conns" -d"${DURATION}s" --latency "$@" -s tools/bench/create_order.lua \
    "$URL" -- $lua_args >"$TMP/wrk.txt" 2>&1
  local rps p50 p99 errors sock acked
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.txt" | to_ms)
  p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.txt" | to_ms)
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$TMP/wrk.txt")
  sock=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$TMP/wrk.txt")
  acked="- -"
  if [[ $ROLES == *relay* && ${KEPT_ROWS:-1} == 1 ]]; then
    wait_drained
    # Creates of this round over the time from its start to the acknowledgement of its
    # last ORDER_CREATED; the lag is commit (the row's transaction) to acknowledgement.
    acked=$(q "SELECT round(count(*) / extract(epoch FROM max(sent_at) - '$start'::timestamptz)),
        round((1000 * percentile_cont(0.99) WITHIN GROUP
          (ORDER BY extract(epoch FROM sent_at - created_at)))::numeric, 1)
      FROM outbox_events WHERE event_type = 'ORDER_CREATED' AND created_at >= '$start'" | tr '|' ' ')
  fi
  echo "$rps $p50 $p99 ${errors:-0} $acked ${sock:-0}"
}

run_pgbench() {
  pgbench -n -c 32 -j 2 -T "$DURATION" -f tools/bench/pgbench_create_order.sql "$PG_DB" \
    >"$TMP/pgbench.txt" 2>&1
  awk '/^tps = / {print $3; exit}' "$TMP/pgbench.txt" | grep . || { cat "$TMP/pgbench.txt" >&2; return 1; }
}

fail_on_errors() { # NAME ERRORS SOCKET_ERRORS
  [[ $2 == 0 && $3 == 0 ]] || { cat "$TMP/wrk.txt" >&2; echo "bench: $1: $2 error answers, $3 socket errors" >&2; exit 1; }
}

ROLES=http,relay,consumer,expiry
start_service "$ROLES"
echo "bench: [$BENCH_BROKER] warming up the service (3 s)" >&2
DURATION=3 run_wrk 64 0 >/dev/null
wait_drained

: >"$TMP/rows"
for round in $(seq "$ROUNDS"); do
  read -r rps p50 p99 errors acked lag sock < <(run_wrk 64 "$round")
  fail_on_errors "default roles" "$errors" "$sock"
  read -r krps kp50 kp99 kerrors kacked klag ksock < <(run_wrk 64 "$round" -H "Connection: keep-alive")
  fail_on_errors "keep-alive" "$kerrors" "$ksock"
  tps=$(run_pgbench)
  echo "bench: [$BENCH_BROKER] round $round: default roles $rps/s (p99 $p99 ms, acked $acked/s, lag p99 $lag ms), keep-alive $krps/s (p99 $kp99 ms), pgbench $tps tps" >&2
  echo "$rps $p50 $p99 $acked $lag $krps $kp50 $kp99 $kacked $klag $tps" >>"$TMP/rows"
done
col() { awk -v c="$1" '{print $c}' "$TMP/rows" | median; }
RPS=$(col 1) P50=$(col 2) P99=$(col 3) ACKED=$(col 4) LAG=$(col 5)
KRPS=$(col 6) KP50=$(col 7) KP99=$(col 8) KACKED=$(col 9) KLAG=$(col 10) PG=$(col 11)

# About half the load: each connection waits between requests (create_order.lua's
# second argument, ms), so that the 64 connections send ~RPS/2 requests a second.
HALF_DELAY=$(awk -v r="$RPS" 'BEGIN {printf "%d", 64 * 1000 / (r / 2)}')
read -r hrps _ hp99 herrors _ hlag hsock < <(run_wrk 64 "h $HALF_DELAY")
fail_on_errors "half load" "$herrors" "$hsock"

# The stampede: far more connections than the service has work slots.
stampede_section

# The http role alone (relays, consumer and sweeper in other processes): second line.
ROLES=http
start_service "$ROLES"
: >"$TMP/http.rows"
for round in $(seq "$ROUNDS"); do
  read -r hr _ hp _ _ _ hs < <(run_wrk 64 "x$round")
  echo "$hr $hp" >>"$TMP/http.rows"
done
HTTP_RPS=$(awk '{print $1}' "$TMP/http.rows" | median)
HTTP_P99=$(awk '{print $2}' "$TMP/http.rows" | median)
stop_service

# Every order committed so far has its ORDER_CREATED row (kept: SENT, or PENDING of the
# http-only role).
orders=$(q "SELECT count(*) FROM orders")
events=$(q "SELECT count(*) FROM outbox_events WHERE event_type='ORDER_CREATED'")
[[ $orders == "$events" ]] || { echo "bench: orders and ORDER_CREATED rows differ" >&2; exit 1; }

# As deployed: the default record of a delivery (rows deleted, OUTBOX_RETENTION_S=0), no
# acknowledgement columns (they read the kept rows), the same rounds. Last, after the
# closing check: its janitor deletes every SENT row, the kept ones of the rows above too.
BENCH_OUTBOX_RETENTION_S=0 start_service "$ROLES"
DURATION=3 KEPT_ROWS=0 run_wrk 64 0 >/dev/null
: >"$TMP/deployed.rows"
for round in $(seq "$ROUNDS"); do
  read -r drps dp50 dp99 derrors _ _ dsock < <(KEPT_ROWS=0 run_wrk 64 "d$round")
  fail_on_errors "default record" "$derrors" "$dsock"
  echo "$drps $dp50 $dp99" >>"$TMP/deployed.rows"
done
DRPS=$(awk '{print $1}' "$TMP/deployed.rows" | median)
DP50=$(awk '{print $2}' "$TMP/deployed.rows" | median)
DP99=$(awk '{print $3}' "$TMP/deployed.rows" | median)

stop_service

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
printf '\n## Durable create-order throughput [%s] (%s rounds of %s s, medians)\n\n' "$BENCH_BROKER" "$ROUNDS" "$DURATION"
printf '| what | creates/s | / pgbench | p50 | p99 | acked by Kafka/s | commit -> ack p99 |\n|---|---|---|---|---|---|---|\n'
printf '| **default roles, wrk -t2 -c64 as it is** | **%.0f** | **%s** | %s ms | **%s ms** | %s | %s ms |\n' "$RPS" "$(ratio "$RPS" "$PG")" "$P50" "$P99" "$ACKED" "$LAG"
printf '| default roles and default record (rows deleted at delivery), wrk -c64 as it is | %.0f | %s | %s ms | %s ms | | |\n' "$DRPS" "$(ratio "$DRPS" "$PG")" "$DP50" "$DP99"
printf '| default roles, wrk -c64 with keep-alive | %.0f | %s | %s ms | %s ms | %s | %s ms |\n' "$KRPS" "$(ratio "$KRPS" "$PG")" "$KP50" "$KP99" "$KACKED" "$KLAG"
printf '| default roles at ~half load (%s ms between requests) | %.0f | | | %s ms | | **%s ms** |\n' "$HALF_DELAY" "$hrps" "$hp99" "$hlag"
printf '| http role only, wrk -c64 as it is | %.0f | %s | | %s ms | | |\n' "$HTTP_RPS" "$(ratio "$HTTP_RPS" "$PG")" "$HTTP_P99"
printf '| pgbench, 3 inserts per transaction (-c32) | %.0f | 1.00x | | | | |\n' "$PG"
cat "$TMP/stampede.md"
printf '\nrows: %s orders, %s ORDER_CREATED outbox rows before the default record'"'"'s rounds\n' "$orders" "$events"

# BENCH_EXTRAS=0: only the create-order comparison above; a list such as "outbox saga":
# only those of tools/bench_*.sh; 1 (default): all of them.
EXTRAS=${BENCH_EXTRAS:-1}
[[ $EXTRAS == 0 ]] && exit 0
for extra in tools/bench_*.sh; do
  [[ -f $extra ]] || continue
  name=${extra#tools/bench_}
  [[ $EXTRAS == 1 || " $EXTRAS " == *" ${name%.sh} "* ]] || continue
  DATABASE_URL=$DATABASE_URL bash "$extra"
done
