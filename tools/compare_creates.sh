#!/usr/bin/env bash
# Before and after, side by side in one run: durable create-order throughput of two
# builds of the service, alternating, each round on a fresh database with the default
# roles, wrk (2 threads, 64 connections, BENCH_DURATION s after a 3 s warm-up).
#   ./dev.sh with-stack bash tools/compare_creates.sh OLD_BINARY NEW_BINARY
# e.g. with the old one built in a worktree: git worktree add /tmp/old <commit> &&
# (cd /tmp/old && ./dev.sh build). Prints one line per round and the medians.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."
OLD=${1:?old binary} NEW=${2:?new binary}
ROUNDS=${BENCH_ROUNDS:-3} DURATION=${BENCH_DURATION:-10}
: "${DATABASE_URL:?run through ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run() { # LABEL BINARY ROUND: prints "creates/s p50 p99"
  local label=$1 bin=$2 name="compare_$1_$3_$$" db port pid out
  db=$(migrated_db "$DATABASE_URL" "$name" "$bin")
  port=$(free_port)
  env DATABASE_URL="$db" KAFKA_BROKERS="$KAFKA_BROKERS" HTTP_ADDR="127.0.0.1:$port" \
    KAFKA_GROUP_ID="$name" LOG_LEVEL=warn "$bin" serve >"$TMP/$name.log" 2>&1 &
  pid=$!
  wait_until 30 ready_at "http://127.0.0.1:$port" || true
  wrk -t2 -c64 -d3s -s tools/bench/create_order.lua "http://127.0.0.1:$port" >/dev/null
  out=$(wrk -t2 -c64 -d"${DURATION}s" --latency -s tools/bench/create_order.lua "http://127.0.0.1:$port")
  stop_pids "$pid"
  grep -q 'Non-2xx' <<<"$out" && { echo "compare_creates: $label answered errors" >&2; exit 1; }
  echo "$(awk '/Requests\/sec/ { print int($2) }' <<<"$out") $(awk '$1 == "50%" { print $2 }' <<<"$out") $(awk '$1 == "99%" { print $2 }' <<<"$out")"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for label in old new; do
    bin=$OLD
    [[ $label == new ]] && bin=$NEW
    read -r rps p50 p99 < <(run "$label" "$bin" "$r")
    echo "round $r $label: $rps creates/s, p50 $p50, p99 $p99"
    echo "$rps" >>"$TMP/$label"
  done
done
o=$(median "$TMP/old") n=$(median "$TMP/new")
echo "median: old $o creates/s, new $n creates/s, new/old $(awk -v a="$n" -v b="$o" 'BEGIN { printf "%.2f", a / b }')"
