#!/usr/bin/env bash
# Connections held by hostile clients and a stampede of creates (issue 12 items 4 and 5,
# CONTRACT §3 "Overload"), against the real binary: slowloris clients trickling a head or
# a body are cut with 408 in JSON while others are answered throughout; 5 000 idle
# connections leave the service answering; beyond HTTP_MAX_CONNECTIONS a connection is
# answered 503 at once; beyond HTTP_MAX_IN_FLIGHT a create is answered 503 UNAVAILABLE with
# Retry-After, leaves no order, and its retry with the same key makes exactly one.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"
: "${FLASHSALE_TOOLS_DIR:?FLASHSALE_TOOLS_DIR must name the folder of flashsale-stampede}"

ulimit -n "$(ulimit -Hn)" # 5 000 client sockets here, twice that in the service
STAMPEDE="$FLASHSALE_TOOLS_DIR/flashsale-stampede"
USER_ID=$(cat /proc/sys/kernel/random/uuid)
order_body() { one_item_order "$USER_ID"; }

STATUS="" BODY=""
DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http HTTP_HEADER_TIMEOUT_MS=2000 \
  HTTP_BODY_TIMEOUT_MS=2000 HTTP_KEEPALIVE_TIMEOUT_S=60
wait_for 30 "readyz 200" ready

# --- the listen queue: a stampede's connects arrive together; a queue of Pistache's
# default 128 overflows and the kernel makes the rest retry their SYN a second later.
# `ss -lnt` shows a listening socket's queue limit as its Send-Q.
BACKLOG=$(ss -Hlnt "sport = :$PORT" | awk '{print $3}')
check "the listen queue holds a stampede's connects (${BACKLOG:-none} >= 1024, or net.core.somaxconn)" \
  test "${BACKLOG:-0}" -ge "$(($(cat /proc/sys/net/core/somaxconn) < 1024 ? $(cat /proc/sys/net/core/somaxconn) : 1024))"

# --- slowloris: a byte every 250 ms of a head, of a body, of a second request's head
SLOW_PIDS=()
for mode in head body keepalive; do
  python3 "$HOSTILE" slowloris "$PORT" "$mode" 0.25 >"$E2E_TMP/slow-$mode" 2>&1 &
  SLOW_PIDS+=($!)
done
ANSWERED=0 UNANSWERED=0 N=0
slow_running() { local p; for p in "${SLOW_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while slow_running; do
  N=$((N + 1))
  CREATED=$(curl -sS -o "$E2E_TMP/created" -w '%{http_code}' --max-time 5 -X POST \
    -H 'Content-Type: application/json' -H "X-Idempotency-Key: normal-$N" \
    --data-binary "$(order_body)" "$BASE/api/v1/orders" || true)
  ID=$(jq -r '.data.id // empty' "$E2E_TMP/created" 2>/dev/null || true)
  GOT=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/api/v1/orders/${ID:-none}" || true)
  if [[ "$CREATED/$GOT" == 201/200 ]]; then ANSWERED=$((ANSWERED + 1)); else UNANSWERED=$((UNANSWERED + 1)); fi
  sleep 0.2
done
for p in "${SLOW_PIDS[@]}"; do wait "$p" || true; done
for mode in head body keepalive; do
  check "slowloris ($mode): cut, answered 408 REQUEST_TIMEOUT in JSON ($(cat "$E2E_TMP/slow-$mode"))" \
    eq "$(cat "$E2E_TMP/slow-$mode")" "cut 408 REQUEST_TIMEOUT"
done
check "a normal client meanwhile: every create and get answered ($ANSWERED of $N)" eq "$UNANSWERED" 0
check "... and it made more than one ($ANSWERED)" test "$ANSWERED" -gt 1

# --- 5 000 idle connections: a create and a get are answered as ever
hold_idle "$PORT" 5000
check "5000 idle connections open ($OPENED)" eq "$OPENED" 5000
req POST /api/v1/orders "$(order_body)" -H 'X-Idempotency-Key: beside-idle'
check "with 5000 idle connections open: create 201" eq "$STATUS" 201
ID=$(json .data.id)
req GET "/api/v1/orders/$ID"
check "with 5000 idle connections open: get 200" eq "$STATUS/$(json .data.id)" "200/$ID"
release_idle
check "the idle connections were held, not cut ($CLOSED closed by the server)" eq "$CLOSED" 0

# One service at a time on this database: two would form a cluster.
stop_service() { kill "$SERVICE_PID"; wait "$SERVICE_PID" || true; }

# --- beyond HTTP_MAX_CONNECTIONS: 503 UNAVAILABLE with Retry-After at once, then closed
stop_service
CAP_PORT=$(free_port)
start_service "$DB" "$CAP_PORT" ORDER_ROLES=http HTTP_MAX_CONNECTIONS=50
BASE="http://127.0.0.1:$CAP_PORT"
wait_for 30 "readyz 200 (capped service)" ready
hold_idle "$CAP_PORT" 60
check "60 connections opened against a cap of 50 ($OPENED)" eq "$OPENED" 60
req GET /healthz ''
check "the 61st connection: 503 UNAVAILABLE JSON" eq "$STATUS/$(json .error.code)" 503/UNAVAILABLE
check "... with Retry-After" has_header Retry-After 1
check "... and Connection: close" has_header Connection close
release_idle
check "the 10 over the cap were answered and closed at once ($CLOSED, $FIRST_ANSWER)" \
  eq "$CLOSED/$FIRST_ANSWER" "10/503/UNAVAILABLE"
wait_for 10 "the capped service answers again once the idle connections are gone" ready

# --- admission: HTTP_MAX_IN_FLIGHT=2 and a slow database; 40 creates at once
stop_service
start_fault_proxy pg "$(url_hostport "$DB")"
ADM_PORT=$(free_port)
start_service "$(proxied_url "$DB" pg)" "$ADM_PORT" ORDER_ROLES=http HTTP_MAX_IN_FLIGHT=2
BASE="http://127.0.0.1:$ADM_PORT"
wait_for 30 "readyz 200 (admission service)" ready
fault pg delay 100
"$STAMPEDE" --port "$ADM_PORT" --conns 40 --requests-per-conn 1 --prefix adm \
  --user "$USER_ID" --out "$E2E_TMP/adm" >"$E2E_TMP/adm-summary" &
STAMPEDE_PID=$!
HEALTH_BAD=0
while kill -0 "$STAMPEDE_PID" 2>/dev/null; do
  H=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/healthz" || true)
  M=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/metrics" || true)
  [[ "$H/$M" == 200/200 ]] || HEALTH_BAD=$((HEALTH_BAD + 1))
done
wait "$STAMPEDE_PID"
fault pg pass
echo "admission stampede: $(cat "$E2E_TMP/adm-summary")"
REFUSED=$(awk '$2 == 503' "$E2E_TMP/adm" | wc -l)
check "40 creates: every one answered 201 or 503 ($(cat "$E2E_TMP/adm-summary"))" \
  eq "$(awk '$2 != 201 && $2 != 503' "$E2E_TMP/adm" | wc -l)/$(wc -l <"$E2E_TMP/adm")" 0/40
check "some creates refused at the admission limit ($REFUSED)" test "$REFUSED" -gt 0
check "every refusal is UNAVAILABLE JSON with Retry-After" \
  eq "$(awk '$2 == 503 && !($3 == "UNAVAILABLE" && $4 == "1")' "$E2E_TMP/adm" | wc -l)" 0
check "/healthz and /metrics are never refused" eq "$HEALTH_BAD" 0
# Refused at once, not queued: every refusal is answered before the first create is.
FIRST_CREATED=$(awk '$2 == 201 {print $5}' "$E2E_TMP/adm" | sort -n | head -1)
LAST_REFUSED=$(awk '$2 == 503 {print $5}' "$E2E_TMP/adm" | sort -n | tail -1)
check "every refusal answered before the first 201 (last refusal ${LAST_REFUSED} ms, first 201 ${FIRST_CREATED} ms)" \
  awk -v r="${LAST_REFUSED:-1e9}" -v c="${FIRST_CREATED:-0}" 'BEGIN { exit !(r < c) }' 
REFUSED_KEYS=$(awk '$2 == 503 {printf "%s'\''%s'\''", (n++ ? "," : ""), $1}' "$E2E_TMP/adm")
check "no order for any refused create" \
  eq "$(sql "$DB" "SELECT count(*) FROM orders WHERE idempotency_key IN (${REFUSED_KEYS:-''})")" 0
RETRIED=0
for key in $(awk '$2 == 503 {print $1}' "$E2E_TMP/adm"); do
  req POST /api/v1/orders "$(order_body)" -H "X-Idempotency-Key: $key"
  [[ "$STATUS" == 201 ]] && RETRIED=$((RETRIED + 1))
done
check "every refused create retried with its key: 201 ($RETRIED of $REFUSED)" eq "$RETRIED" "$REFUSED"
check "exactly one order per key of the stampede" \
  eq "$(sql "$DB" "SELECT count(*), count(DISTINCT idempotency_key) FROM orders WHERE idempotency_key LIKE 'adm-%'")" "40|40"

finish
