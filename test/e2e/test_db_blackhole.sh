#!/usr/bin/env bash
# The database goes silent (a failover, a cut network: packets dropped, no reset) under
# the running service, through the TCP fault proxy: /readyz turns 503 within 2 s, creates
# answer 503 instead of hanging, the service recovers by itself within seconds once the
# network heals, and SIGTERM ends the process promptly while the database is silent.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"

DB=$(fresh_database)
start_fault_proxy pg "$(url_hostport "$DB")"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# Every role but the outbox relay, whose claim transactions do not run under the
# connection watchdog (see docs/OPERATIONS.md).
start_service "$(proxied_url "$DB" pg)" "$PORT" ORDER_ROLES=http,consumer,expiry
wait_for 30 "readyz 200" ready

USER_ID=$(cat /proc/sys/kernel/random/uuid)
body() { echo '{"user_id":"'$USER_ID'","currency":"EUR","total_amount":5,"items":[{"sku_id":"a","quantity":1,"price":5}]}'; }
req POST /api/v1/orders "$(body)" -H 'X-Idempotency-Key: before'
check "create before the blackhole" eq "$STATUS" 201

not_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/readyz") == 503 ]]; }

fault pg blackhole
MS=$(wait_ms 10000 not_ready) || true
echo "readyz 503 after ${MS} ms of blackhole"
check "readyz 503 within 3 s of the blackhole (took ${MS} ms)" test "$MS" -le 3000

START=$(now_ms)
req POST /api/v1/orders "$(body)" -H 'X-Idempotency-Key: during' --max-time 20
TOOK=$(($(now_ms) - START))
echo "create during the blackhole answered $STATUS after ${TOOK} ms"
check "create during the blackhole: 503 UNAVAILABLE" eq "$STATUS/$(json .error.code)" 503/UNAVAILABLE
check "answered within 7 s (took ${TOOK} ms)" test "$TOOK" -le 7000
req GET /healthz ''
check "healthz stays 200" eq "$STATUS" 200

fault pg pass
MS=$(wait_ms 15000 ready) || true
echo "readyz 200 ${MS} ms after healing"
check "readyz 200 within 10 s of healing (took ${MS} ms)" test "$MS" -le 10000
created_after() {
  req POST /api/v1/orders "$(body)" -H 'X-Idempotency-Key: after' --max-time 5
  [[ $STATUS == 201 ]]
}
MS=$(wait_ms 15000 created_after) || true
echo "create 201 ${MS} ms after readyz 200"
check "creates succeed again within 10 s (took ${MS} ms)" test "$MS" -le 10000

# SIGTERM while the database is silent and a create is stuck in a writer.
fault pg blackhole
wait_ms 10000 not_ready >/dev/null || true
curl -s -o /dev/null --max-time 30 -X POST -H 'Content-Type: application/json' \
  -H 'X-Idempotency-Key: stuck' --data-binary "$(body)" "$BASE/api/v1/orders" &
CURL_PID=$!
sleep 0.5 # let the create reach a writer: what is measured below is the stop
kill -TERM "$SERVICE_PID"
gone() { ! kill -0 "$SERVICE_PID" 2>/dev/null; }
MS=$(wait_ms 20000 gone) || true
echo "process ended ${MS} ms after SIGTERM with the database blackholed"
check "SIGTERM ends the process within 10 s while blackholed (took ${MS} ms)" test "$MS" -le 10000
wait "$CURL_PID" 2>/dev/null || true
fault pg pass

finish
