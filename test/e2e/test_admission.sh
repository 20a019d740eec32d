#!/usr/bin/env bash
# A flash sale as it arrives (issue 20 item 2, CONTRACT §3 "Overload"): creates at a fixed
# rate far above what the service can commit, whatever it answers (vegeta, open loop),
# against a database made slow by a trigger that sleeps on every order row. Beyond the
# admission limit (adaptive under HTTP_MAX_IN_FLIGHT) a create is refused with 503
# UNAVAILABLE, Retry-After and the JSON error body; no 201 is lost (each one's order is
# in the database) and no refused create leaves an order (orders == 201 answers).
# Nothing here is timed: the latencies are the benchmark's business (docs/BENCHMARKS.md).
source "$(dirname "$0")/lib.sh"
: "${FLASHSALE_SOURCE_DIR:?FLASHSALE_SOURCE_DIR must name the source tree}"

VEGETA=$(bash "$FLASHSALE_SOURCE_DIR/tools/vegeta.sh" fetch)
OPEN_LOOP="python3 $FLASHSALE_SOURCE_DIR/tools/open_loop.py"
RATE=400 SECONDS_OF_LOAD=4 CEILING=16
USER_ID=$(cat /proc/sys/kernel/random/uuid)

DB=$(fresh_database)
# 20 ms per order row: the two writers commit at most ~100 orders/s, a quarter of RATE.
sql "$DB" "CREATE FUNCTION e2e_slow_order() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END \$\$;
  CREATE TRIGGER e2e_slow_order BEFORE INSERT ON orders FOR EACH ROW
  EXECUTE FUNCTION e2e_slow_order();" >/dev/null
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http HTTP_MAX_IN_FLIGHT=$CEILING HTTP_ADMISSION_MIN=4
wait_for 30 "readyz 200" ready

req GET /metrics
LIMIT=$(awk '$1 == "http_admission_limit" {print $2}' <<<"$BODY")
check "/metrics shows the admission limit under the ceiling (${LIMIT:-none} <= $CEILING)" \
  awk -v l="${LIMIT:-x}" -v c="$CEILING" 'BEGIN { exit !(l ~ /^[0-9]+$/ && l >= 4 && l <= c) }'

$OPEN_LOOP targets "$BASE" "$USER_ID" "adm-$$" $((RATE * SECONDS_OF_LOAD + RATE)) >"$E2E_TMP/targets"
"$VEGETA" attack -format=json -targets="$E2E_TMP/targets" -rate="$RATE" \
  -duration="${SECONDS_OF_LOAD}s" -timeout=60s >"$E2E_TMP/results.bin"
"$VEGETA" encode --to json <"$E2E_TMP/results.bin" >"$E2E_TMP/results.jsonl"
$OPEN_LOOP answers <"$E2E_TMP/results.jsonl" >"$E2E_TMP/answers"
echo "open loop: $($OPEN_LOOP summary "$RATE" <"$E2E_TMP/results.jsonl")"

SENT=$(wc -l <"$E2E_TMP/answers")
CREATED=$(awk '$2 == 201' "$E2E_TMP/answers" | wc -l)
REFUSED=$(awk '$2 == 503' "$E2E_TMP/answers" | wc -l)
check "every request sent ($SENT of $((RATE * SECONDS_OF_LOAD)))" eq "$SENT" $((RATE * SECONDS_OF_LOAD))
check "every create answered 201 or 503, none failed or timed out ($CREATED + $REFUSED of $SENT)" \
  eq $((CREATED + REFUSED)) "$SENT"
check "creates refused at the admission limit ($REFUSED)" test "$REFUSED" -gt 0
check "creates made while refusing others ($CREATED)" test "$CREATED" -gt 0
check "every refusal is 503 UNAVAILABLE in JSON with Retry-After: 1" \
  eq "$(awk '$2 == 503 && !($3 == "UNAVAILABLE" && $4 == "1")' "$E2E_TMP/answers" | wc -l)" 0
REFUSED_METRIC=$(curl -sS "$BASE/metrics" | awk '$1 == "http_requests_refused_total" {print $2}')
check "http_requests_refused_total counts them (${REFUSED_METRIC:-none} == $REFUSED)" \
  eq "${REFUSED_METRIC:-none}" "$REFUSED"

# No 201 lost: each answered order is in the database (and its body names it).
IDS=$(awk '$2 == 201 {printf "%s'\''%s'\''", (n++ ? "," : ""), $5}' "$E2E_TMP/answers")
check "every 201 names its order ($CREATED)" \
  eq "$(awk '$2 == 201 && !($5 ~ /^[0-9a-f-]+$/ && length($5) == 36)' "$E2E_TMP/answers" | wc -l)" 0
check "every 201's order is in the database" \
  eq "$(sql "$DB" "SELECT count(*) FROM orders WHERE id IN (${IDS:-NULL})")" "$CREATED"
# No order for a refused create: the orders of this run are exactly the 201s.
check "orders in the database == 201 answers ($CREATED)" \
  eq "$(sql "$DB" "SELECT count(*) FROM orders WHERE idempotency_key LIKE 'adm-$$-%'")" "$CREATED"
check "the service did not crash" no_crash

finish
