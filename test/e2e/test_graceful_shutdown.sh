#!/usr/bin/env bash
# SIGTERM with requests in flight: the service stops accepting, answers every request it
# had taken (a complete HTTP answer, never a reset or empty reply), then stops. The
# database is slowed down through the fault proxy so that the creates are still in
# flight when the signal arrives.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fault_lib.sh"

DB=$(fresh_database)
start_fault_proxy pg "$(url_hostport "$DB")"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$(proxied_url "$DB" pg)" "$PORT" ORDER_ROLES=http
wait_for 30 "readyz 200" ready

USER_ID=$(cat /proc/sys/kernel/random/uuid)
body() { echo '{"user_id":"'$USER_ID'","currency":"EUR","total_amount":5,"items":[{"sku_id":"a","quantity":1,"price":5}]}'; }
req POST /api/v1/orders "$(body)" -H 'X-Idempotency-Key: warm-up'
check "create before the stop" eq "$STATUS" 201

N=20
fault pg delay 100 # each database round trip takes ~0.2 s: a batch of creates ~1 s
for ((i = 0; i < N; i++)); do
  (
    code=$(curl -sS -o "$E2E_TMP/body-$i" -w '%{http_code}' --max-time 30 -X POST \
      -H 'Content-Type: application/json' -H "X-Idempotency-Key: inflight-$i" \
      --data-binary "$(body)" "$BASE/api/v1/orders" 2>"$E2E_TMP/err-$i") && rc=0 || rc=$?
    echo "$rc ${code:-000}" >"$E2E_TMP/result-$i"
  ) &
done
# Every request is taken: its connection is established and the service counts it.
established() { (($(ss -tnH state established "sport = :$PORT" | wc -l) >= N)); }
check "all $N requests connected" wait_for 10 "$N connections" established
START=$(now_ms)
kill -TERM "$SERVICE_PID"
gone() { ! kill -0 "$SERVICE_PID" 2>/dev/null; }
MS=$(wait_ms 30000 gone) || true
echo "process ended ${MS} ms after SIGTERM"
check "the process ends within 15 s of SIGTERM (took ${MS} ms)" test "$MS" -le 15000
wait_results() { for ((i = 0; i < N; i++)); do [[ -s $E2E_TMP/result-$i ]] || return 1; done; }
check "every curl ended" wait_for 40 "every curl to end" wait_results

COMPLETE=0 CREATED=0
for ((i = 0; i < N; i++)); do
  read -r rc code <"$E2E_TMP/result-$i" || { rc=none code=000; }
  if [[ $rc == 0 && $code =~ ^[1-5][0-9][0-9]$ ]] && jq -e . "$E2E_TMP/body-$i" >/dev/null 2>&1; then
    COMPLETE=$((COMPLETE + 1))
  else
    echo "request $i: curl exit $rc, status $code: $(cat "$E2E_TMP/err-$i")" >&2
  fi
  [[ $code == 201 ]] && CREATED=$((CREATED + 1))
done
echo "$COMPLETE of $N answered completely ($CREATED created) across SIGTERM"
check "every request in flight got a complete answer ($COMPLETE of $N)" test "$COMPLETE" -eq "$N"
check "the slow creates were answered 201 ($CREATED of $N)" test "$CREATED" -eq "$N"
STORED=$(sql "$DB" "SELECT count(*) FROM orders WHERE idempotency_key LIKE 'inflight-%'")
check "every 201 is in the database ($STORED stored)" test "$STORED" -ge "$CREATED"
curl -s -o /dev/null --max-time 2 "$BASE/healthz" && REFUSED=no || REFUSED=yes
check "new connections refused once stopped" eq "$REFUSED" yes
fault pg pass

finish
