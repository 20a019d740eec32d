#!/usr/bin/env bash
# Outbox drain benchmark (run by tools/bench.sh): a pre-filled outbox drained to
# acknowledged Kafka messages with 1, 2, 4 and 8 relays, then relay lag at 1 000 events/s.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FLASHSALE_BUILD_DIR:-build}
printf '\n## Outbox drain (50 000 events across 5 000 orders, OUTBOX_BATCH default)\n\n'
"$BUILD/tools/flashsale-outbox-bench" --events 50000 --orders 5000 --relays 1,2,4,8
printf '\n## Relay lag at 1 000 events/s\n\n'
"$BUILD/tools/flashsale-outbox-bench" --rate 1000 --seconds 10 --relays 1,4
