#!/usr/bin/env bash
# Clients that stop reading while their answer is written, or reset the connection in
# the middle of it, against the real binary: the service resets a connection whose
# answer is not written within HTTP_WRITE_TIMEOUT_MS, and ends one whose write failed;
# either way the connection's descriptors and its place under HTTP_MAX_CONNECTIONS are
# freed, the request stops counting as in flight (a stop is not held up by it), and the
# service answers as ever.
source "$(dirname "$0")/lib.sh"

MAX_CONNECTIONS=4
STALLED=3 # leaves one place for the /metrics the stalling client watches
USER_ID=$(cat /proc/sys/kernel/random/uuid)
# An order of 100 items with the longest SKUs: 100 of them are a list answer of ~1 MB.
big_order() {
  python3 -c 'import json, sys
items = [{"sku_id": "sku-%03d-" % i + "x" * 56, "quantity": 1, "price": 1} for i in range(100)]
print(json.dumps({"user_id": sys.argv[1], "currency": "EUR", "total_amount": 100, "items": items}))' "$USER_ID"
}

STATUS="" BODY=""
DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http HTTP_MAX_CONNECTIONS=$MAX_CONNECTIONS \
  HTTP_WRITE_TIMEOUT_MS=3000 HTTP_KEEPALIVE_TIMEOUT_S=60
LOG="$E2E_TMP/service-$PORT.log"
wait_for 30 "readyz 200" ready

BIG=$(big_order)
CREATED=0
for i in $(seq 100); do
  req POST /api/v1/orders "$BIG" -H "X-Idempotency-Key: big-$i"
  [[ $STATUS == 201 ]] && CREATED=$((CREATED + 1))
done
check "100 orders of 100 items created ($CREATED)" eq "$CREATED" 100
LIST="/api/v1/orders?user_id=$USER_ID&limit=100"
SIZE=$(curl -sS -o /dev/null -w '%{size_download}' "$BASE$LIST")
# Enough answers on one connection to overflow the largest send buffer the kernel gives.
WMEM_MAX=$(awk '{print $3}' /proc/sys/net/ipv4/tcp_wmem)
REQUESTS=$((WMEM_MAX / SIZE + 2))
BASELINE=$(fd_count "$SERVICE_PID")
near_baseline() { (($(fd_count "$SERVICE_PID") <= BASELINE + 2)); }
echo "list answer $SIZE bytes, $REQUESTS of them a connection, $BASELINE descriptors at rest"
metric() { curl -sS "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'; }

# stall_start COUNT: connections that stop reading, left with answers being written.
stall_start() {
  rm -f "$E2E_TMP/stall-ready" "$E2E_TMP/stall-in"
  mkfifo "$E2E_TMP/stall-in"
  python3 "$HOSTILE" stall "$PORT" "$LIST" "$1" "$REQUESTS" "$E2E_TMP/stall-ready" \
    <"$E2E_TMP/stall-in" >"$E2E_TMP/stall-out" 2>&1 &
  STALL_PID=$!
  exec 8>"$E2E_TMP/stall-in"
  wait_for 120 "$1 connections stalled" test -s "$E2E_TMP/stall-ready"
}
# stall_end [reset]: resets them, or only lets go; sets STALL_RESULT.
stall_end() {
  [[ ${1-} == reset ]] && echo reset >&8
  exec 8>&-
  wait "$STALL_PID" || true
  STALL_RESULT=$(cat "$E2E_TMP/stall-out")
}

# --- clients that stop reading: reset by the service after HTTP_WRITE_TIMEOUT_MS
stall_start "$STALLED"
# The service's own Kafka and database clients open and close sockets too, so the count
# alone can dip before the last stalled connection is gone: wait for its write timeouts.
timed_out_and_freed() {
  [[ $(metric 'http_write_failures_total{reason="timeout"}') == "$STALLED" ]] && near_baseline
}
wait_for 15 "the stalled connections' descriptors freed while their clients hold them" \
  timed_out_and_freed && FREED=1 || FREED=0
check "stopped reading: descriptors freed while the clients hold on ($(fd_count "$SERVICE_PID"), at rest $BASELINE)" \
  eq "$FREED" 1
hold_idle "$PORT" "$MAX_CONNECTIONS"
release_idle
check "... every place under HTTP_MAX_CONNECTIONS free again ($CLOSED of $OPENED refused)" \
  eq "$OPENED/$CLOSED" "$MAX_CONNECTIONS/0"
stall_end
check "... the clients see their connections reset ($STALL_RESULT)" \
  eq "$STALL_RESULT" "ended $STALLED of $STALLED"
check "... counted as write timeouts" \
  eq "$(metric 'http_write_failures_total{reason="timeout"}')" "$STALLED"

# --- a client that resets the connection in the middle of an answer (at once: well
# within HTTP_WRITE_TIMEOUT_MS)
wait_for 15 "at rest again" near_baseline
failed_writes() { echo $(($(metric 'http_write_failures_total{reason="error"}') + $(metric 'http_write_failures_total{reason="forgotten"}'))); }
FAILED_BEFORE=$(failed_writes)
stall_start 1
stall_end reset
check "reset mid-answer: $STALL_RESULT" eq "$STALL_RESULT" "reset 1"
wait_for 15 "the reset connections' descriptors freed" near_baseline && FREED=1 || FREED=0
check "... descriptors freed ($(fd_count "$SERVICE_PID"), at rest $BASELINE)" eq "$FREED" 1
# Pistache either rejects that write (reason error) or drops it uncalled (forgotten).
FAILED_WRITES=$(($(failed_writes) - FAILED_BEFORE))
check "... counted as failed writes ($FAILED_WRITES: each answer queued on it)" test "$FAILED_WRITES" -ge 1

# --- and all the while: answers as ever; nothing is left counted in flight
req POST /api/v1/orders "$(one_item_order "$USER_ID")" -H 'X-Idempotency-Key: after-stalls'
ID=$(json .data.id)
req GET "/api/v1/orders/$ID"
check "after the stalled clients: create and get answered" eq "$STATUS/$(json .data.id)" "200/$ID"
kill -TERM "$SERVICE_PID"
wait "$SERVICE_PID" || true
DRAINED=$(jq -rR 'fromjson? | select(.msg == "http drained") | .unanswered' "$LOG")
check "stopped with nothing left in flight (unanswered: $DRAINED)" eq "$DRAINED" 0
check "the service log has no crash" no_crash

finish
