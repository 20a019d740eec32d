# Shared helpers for the end-to-end tests: start the real binary, talk HTTP with curl,
# assert with clear messages. Sourced by test_*.sh; needs DATABASE_URL (an admin URL
# of the server ./dev.sh test started), KAFKA_BROKERS and FLASHSALE_BIN.
set -euo pipefail
# free_port, wait_until, sql, stop_pids, ... (shared with dev.sh and the benchmarks).
# shellcheck source=../../tools/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

E2E_TMP=$(mktemp -d)
E2E_PIDS=()
E2E_FAILED=0
E2E_PASSED=0

e2e_cleanup() {
  stop_pids "${E2E_PIDS[@]}"
  rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT

: "${DATABASE_URL:?DATABASE_URL must point at the test PostgreSQL (run through ./dev.sh test)}"
: "${KAFKA_BROKERS:?KAFKA_BROKERS must point at the embedded broker (run through ./dev.sh test)}"
: "${FLASHSALE_BIN:?FLASHSALE_BIN must name the flashsale-order binary}"

# A fresh database on the test server, migrated with the real binary; prints its URL.
fresh_database() { migrated_db "$DATABASE_URL" "e2e_$$_$RANDOM" "$FLASHSALE_BIN"; }

# start_service URL PORT [VAR=value ...]: runs `serve` in the background, logs to a file.
start_service() {
  local url=$1 port=$2
  shift 2
  # A deployment is one database and one consumer group: the nodes of a database share a
  # group of their own (a test may name another). A group shared across databases would
  # split the shards between unrelated nodes, and one shared across tests would hold an
  # earlier test's static members (NODE_ID) until their session timeout.
  # The tests read outbox_events as the record of what each order emitted, so delivered
  # rows are kept (OUTBOX_RETENTION_S; the default, 0, deletes them at delivery:
  # test/integration/outbox_relay_test.cpp runs that); a test may pass another value.
  local db=${url%%\?*}
  env DATABASE_URL="$url" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:$port" \
    KAFKA_GROUP_ID="e2e-$$-${db##*/}" OUTBOX_RETENTION_S=3600 "$@" \
    "$FLASHSALE_BIN" serve >"$E2E_TMP/service-$port.log" 2>&1 &
  E2E_PIDS+=($!)
  SERVICE_PID=$!
}

# wait_for TIMEOUT_S DESCRIPTION COMMAND...: retries COMMAND (its output dropped) until
# it succeeds; on a timeout says what it waited for and shows the services' logs.
wait_for() {
  local timeout=$1 what=$2
  shift 2
  wait_until "$timeout" quietly "$@" && return 0
  echo "timed out after ${timeout}s waiting for: $what" >&2
  tail -n 30 "$E2E_TMP"/service-*.log >&2 || true
  return 1
}
quietly() { "$@" >/dev/null 2>&1; }

ready() { curl -fsS -o /dev/null "$BASE/readyz"; }

HOSTILE="$(dirname "${BASH_SOURCE[0]}")/hostile_clients.py"

# hold_idle PORT COUNT [EXPECT_CLOSED]: opens COUNT silent connections held until
# release_idle, which sets CLOSED (how many the server closed meanwhile; when
# EXPECT_CLOSED is given, after waiting up to 10 s for that many) and FIRST_ANSWER.
hold_idle() {
  rm -f "$E2E_TMP/ready" "$E2E_TMP/hold"
  mkfifo "$E2E_TMP/hold"
  python3 "$HOSTILE" idle "$1" "$2" "$E2E_TMP/ready" ${3:+"$3"} <"$E2E_TMP/hold" >"$E2E_TMP/idle-out" 2>&1 &
  IDLE_PID=$!
  exec 7>"$E2E_TMP/hold"
  wait_for 120 "$2 idle connections open" test -s "$E2E_TMP/ready"
  OPENED=$(cat "$E2E_TMP/ready")
}
release_idle() {
  exec 7>&-
  wait "$IDLE_PID" || true
  read -r CLOSED FIRST_ANSWER <"$E2E_TMP/idle-out"
}

# one_item_order USER: a create's body, one item of 2 × 1 EUR, for USER.
one_item_order() {
  echo '{"user_id":"'"$1"'","currency":"EUR","total_amount":2,"items":[{"sku_id":"sku-1","quantity":2,"price":1}]}'
}

# fd_count PID: how many descriptors the process holds.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# no_crash: the service logs show no crash.
no_crash() { ! grep -a -qiE "terminate called|segmentation|sanitizer|abort" "$E2E_TMP"/service-*.log; }

# req METHOD PATH [BODY] [curl args...]: sets STATUS, BODY and HEADERS.
req() {
  local method=$1 path=$2 body=${3-}
  shift 3 2>/dev/null || shift $#
  local args=(-sS -X "$method" -o "$E2E_TMP/body" -D "$E2E_TMP/headers" -w '%{http_code}'
    -H 'Content-Type: application/json')
  if [[ -n "$body" ]]; then args+=(--data-binary "$body"); fi
  STATUS=$(curl "${args[@]}" "$@" "$BASE$path")
  BODY=$(cat "$E2E_TMP/body")
  HEADERS=$(tr -d '\r' <"$E2E_TMP/headers")
}

check() {
  local what=$1
  shift
  if "$@"; then
    E2E_PASSED=$((E2E_PASSED + 1))
  else
    E2E_FAILED=$((E2E_FAILED + 1))
    local args="$*"
    echo "FAIL: $what (checked: ${args:0:200}) (status=${STATUS-} body=${BODY:0:300})" >&2
  fi
}

eq() { [[ "$1" == "$2" ]]; }
json() { jq -r "$1" <<<"$BODY"; }
has_header() { grep -qi "^$1: ${2-}" <<<"$HEADERS"; }

finish() {
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  ((E2E_FAILED == 0))
}
