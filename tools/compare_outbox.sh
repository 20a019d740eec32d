#!/usr/bin/env bash
# Before and after, side by side in one run: the outbox drain of two builds'
# flashsale-outbox-bench (each with its own relays and settings' defaults), alternating,
# each round draining EVENTS events of ORDERS orders with RELAYS relays after a warm-up.
#   ./dev.sh with-stack bash tools/compare_outbox.sh OLD_BUILD_DIR NEW_BUILD_DIR
# (a build directory holds tools/flashsale-outbox-bench; an old one comes from a
# worktree: git worktree add /tmp/old <commit> && (cd /tmp/old && ./dev.sh build)).
# Prints one line per round, the medians and their ratio.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
OLD=${1:?old build directory} NEW=${2:?new build directory}
ROUNDS=${BENCH_ROUNDS:-4} EVENTS=${EVENTS:-200000} ORDERS=${ORDERS:-20000} RELAYS=${RELAYS:-4}
: "${DATABASE_URL:?run through ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
  for label in old new; do
    dir=$OLD
    [[ $label == new ]] && dir=$NEW
    rate=$("$dir/tools/flashsale-outbox-bench" --events "$EVENTS" --orders "$ORDERS" \
      --relays "$RELAYS" --warmup 20000 |
      awk -F'|' -v n="$RELAYS" '$2+0 == n { gsub(/ /, "", $4); print $4 }')
    [[ -n $rate ]] || { echo "compare_outbox: $label gave no figure" >&2; exit 1; }
    echo "round $r $label: $rate events/s"
    echo "$rate" >>"$TMP/$label"
  done
done
old=$(median <"$TMP/old") new=$(median <"$TMP/new")
awk -v o="$old" -v n="$new" 'BEGIN { printf "medians: old %.0f, new %.0f events/s (%.2fx)\n", o, n, n / o }'
