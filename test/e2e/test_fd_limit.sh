#!/usr/bin/env bash
# The service at its descriptor limit (ulimit -n), against the real binary: a connection
# it has no descriptor left for is answered 503 UNAVAILABLE (JSON, Retry-After) and closed
# at once, and counted; a flood of connections far beyond what the limit allows leaves no
# connection unanswered or held open; once the flood is gone the service holds what it
# held before and answers as ever.
source "$(dirname "$0")/lib.sh"

ulimit -n "$(ulimit -Hn)" # the client side: hundreds of sockets
LIMIT=200                 # the service's, set in the subshell that becomes the service
FLOOD=400
USER_ID=$(cat /proc/sys/kernel/random/uuid)

STATUS="" BODY=""
DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
(ulimit -n "$LIMIT" && exec env DATABASE_URL="$DB" KAFKA_BROKERS="$KAFKA_BROKERS" \
  HTTP_ADDR="127.0.0.1:$PORT" ORDER_ROLES=http "$FLASHSALE_BIN" serve) \
  >"$E2E_TMP/service-$PORT.log" 2>&1 &
SERVICE_PID=$!
E2E_PIDS+=("$SERVICE_PID")
wait_for 30 "readyz 200" ready
CAP=$(jq -rR 'fromjson? | select(.msg == "http listening") | .max_connections' \
  "$E2E_TMP/service-$PORT.log")
check "the service runs under ulimit -n $LIMIT" eq "$(awk '/open files/ {print $4}' "/proc/$SERVICE_PID/limits")" "$LIMIT"

# create_and_get TAG: a create and a get of it, both answered (sets STATUS to both).
create_and_get() {
  req POST /api/v1/orders "$(one_item_order "$USER_ID")" -H "X-Idempotency-Key: $1" || true
  local created=$STATUS id
  id=$(json '.data.id // empty' 2>/dev/null || true)
  req GET "/api/v1/orders/${id:-none}" || true
  STATUS="$created/$STATUS"
  [[ $STATUS == 201/200 ]]
}
create_and_get warm-up # the database connections are open from here on
check "before the flood: create 201 and get 200" eq "$STATUS" 201/200
BASELINE=$(fd_count "$SERVICE_PID")
# What the connections of the cap may hold (two descriptors each), and a little slack.
near_baseline() { (($(fd_count "$SERVICE_PID") <= BASELINE + 2 * CAP + 2)); }
echo "descriptor limit $LIMIT, connection cap $CAP, $BASELINE descriptors held at rest"

# free_fds PID COUNT: the COUNT lowest descriptor numbers the process has free.
free_fds() {
  find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n |
    awk -v n="$2" 'BEGIN { want = 0; found = 0 }
         { while (want < $1 && found < n) { print want++; found++ } want = $1 + 1 }
         END { while (found < n) { print want++; found++ } }'
}
# leave_fds N: lowers the service's soft descriptor limit (at run time) to leave it N free.
leave_fds() {
  local free
  mapfile -t free < <(free_fds "$SERVICE_PID" $(($1 + 1)))
  prlimit --pid "$SERVICE_PID" --nofile="${free[$1]}:$LIMIT"
}
restore_fds() { prlimit --pid "$SERVICE_PID" --nofile="$LIMIT:$LIMIT"; }

# --- a flood far beyond what the descriptors left allow: every connection beyond the cap
# answered 503 and closed while the flood is held, none left open
leave_fds 8
hold_idle "$PORT" "$FLOOD" $((FLOOD - CAP))
check "more connections opened than the limit allows ($OPENED)" test "$OPENED" -gt "$LIMIT"
wait_for 20 "the service back near $BASELINE descriptors while the flood is held" near_baseline &&
  HELD_OK=1 || HELD_OK=0
check "while $OPENED connections are held: $(fd_count "$SERVICE_PID") descriptors, near $BASELINE" \
  eq "$HELD_OK" 1
release_idle
restore_fds
check "every connection beyond the cap answered 503 UNAVAILABLE and closed ($CLOSED of $OPENED, $FIRST_ANSWER)" \
  eq "$CLOSED/$FIRST_ANSWER" "$((OPENED - CAP))/503/UNAVAILABLE"
# connect_and_read SECONDS: opens a connection, sends nothing (a refusal comes before any
# request is read) and prints what comes back until the server closes; exit status 124
# when it has not closed in time.
connect_and_read() {
  timeout "$1" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; cat <&3' "$PORT"
}

# --- one descriptor left: the connection takes it, the watchdog's duplicate finds none
wait_for 20 "the service back near $BASELINE descriptors" near_baseline
leave_fds 1
OUT=$(connect_and_read 5) && RC=0 || RC=$?
restore_fds
ANSWER=$(head -1 <<<"$OUT" | tr -d '\r')
CODE=$(tail -1 <<<"$OUT" | jq -r '.error.code' 2>/dev/null || echo NOT_JSON)
check "one descriptor left: 503 UNAVAILABLE in JSON, closed at once (exit $RC, $ANSWER, $CODE)" \
  eq "$RC/$ANSWER/$CODE" "0/HTTP/1.1 503 Service Unavailable/UNAVAILABLE"
check "... with Retry-After" grep -qi '^Retry-After: 1' <<<"$OUT"
METRICS=$(curl -sS "$BASE/metrics" || true)
check "... counted as refused for the descriptor limit" \
  grep -q '^http_connections_refused_total{reason="fd_limit"} [1-9]' <<<"$METRICS"

# --- after all of it: answers as ever, holds what it held, alive, no crash
wait_for 20 "create 201 and get 200 after the flood" create_and_get after-flood || true
check "after the flood: create 201 and get 200 ($STATUS)" eq "$STATUS" 201/200
wait_for 20 "the service back near $BASELINE descriptors" near_baseline && AFTER_OK=1 || AFTER_OK=0
check "after the flood: $(fd_count "$SERVICE_PID") descriptors, near $BASELINE" eq "$AFTER_OK" 1
check "the service is alive" kill -0 "$SERVICE_PID"
check "the service log has no crash" no_crash

finish
