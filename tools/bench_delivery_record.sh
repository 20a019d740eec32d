#!/usr/bin/env bash
# What recording a delivered outbox row costs the database, side by side in one run:
# the relay pool drains the same backlog with the rows kept SENT (OUTBOX_RETENTION_S > 0,
# the janitor deleting them later: its DELETEs are run after each drain and counted) and
# with the rows deleted at delivery (OUTBOX_RETENTION_S=0), alternating. Before each
# drain pg_stat_statements is reset; after it, the relay's and the janitor's statements
# are summed per event: buffers touched, buffers dirtied, WAL records and bytes, and
# execution time. Run through ./dev.sh with-stack (or ./dev.sh bench):
#   ./dev.sh with-stack bash tools/bench_delivery_record.sh
# BENCH_ROUNDS (3), EVENTS (200000 across ORDERS=20000), RELAYS (4).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "$0")/.."
BUILD=${FLASHSALE_BUILD_DIR:-build}
ROUNDS=${BENCH_ROUNDS:-3} EVENTS=${EVENTS:-200000} ORDERS=${ORDERS:-20000} RELAYS=${RELAYS:-4}
WARMUP=20000
: "${DATABASE_URL:?run through ./dev.sh with-stack}" "${KAFKA_BROKERS:?}"

[[ $(sql "$DATABASE_URL" "SHOW shared_preload_libraries") == *pg_stat_statements* ]] || {
  echo "bench_delivery_record: PostgreSQL runs without pg_stat_statements; start the stack" \
    "with PG_EXTRA_OPTS='-c shared_preload_libraries=pg_stat_statements' (./dev.sh bench does)" >&2
  exit 1
}
sql "$DATABASE_URL" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

# Per event, each statement kind: calls, buffers, dirtied, WAL records, WAL bytes, ms.
cost_query() {
  cat <<SQL
WITH s AS (
  SELECT CASE
      WHEN query LIKE '%claimed_until = now() +%' THEN 'claim'
      WHEN query LIKE 'UPDATE outbox_events SET status =%sent_at = clock_timestamp()%'
        THEN 'mark SENT'
      WHEN query LIKE 'DELETE FROM outbox_events WHERE seq = ANY%' THEN 'delete delivered'
      WHEN query LIKE 'DELETE FROM outbox_events WHERE seq IN%' THEN 'janitor DELETE'
    END AS what, *
  FROM pg_stat_statements)
SELECT what, sum(calls),
       round(sum(shared_blks_hit + shared_blks_read)::numeric / $1, 2),
       round(sum(shared_blks_dirtied)::numeric / $1, 3),
       round(sum(wal_records)::numeric / $1, 2),
       round(sum(wal_bytes)::numeric / $1, 0),
       round((sum(total_exec_time) * 1000 / $1)::numeric, 1)
FROM s WHERE what IS NOT NULL GROUP BY what ORDER BY what
SQL
}

TOTAL=$((EVENTS + WARMUP))
printf '\n## Recording a delivery: rows kept SENT (and deleted later) or deleted at once (%s events of %s orders, %s relays, %s rounds)\n\n' \
  "$EVENTS" "$ORDERS" "$RELAYS" "$ROUNDS"
printf '| round | record | events/s | statement | calls | buffers/event | dirtied/event | WAL records/event | WAL bytes/event | µs/event |\n'
printf '|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n'
declare -A rates
for ((r = 1; r <= ROUNDS; r++)); do
  for mode in keep remove; do
    retention=3600
    [[ $mode == remove ]] && retention=0
    sql "$DATABASE_URL" "SELECT pg_stat_statements_reset()" >/dev/null
    out=$("$BUILD/tools/flashsale-outbox-bench" --events "$EVENTS" --orders "$ORDERS" \
      --relays "$RELAYS" --warmup "$WARMUP" --retention "$retention")
    rate=$(awk -F'|' -v n="$RELAYS" '$2+0 == n { gsub(/ /, "", $4); print $4 }' <<<"$out")
    rates[$mode]+="$rate "
    while IFS='|' read -r what calls bufs dirtied walr walb us; do
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$r" "$mode" "$rate" "$what" "$calls" "$bufs" "$dirtied" "$walr" "$walb" "$us"
    done < <(sql "$DATABASE_URL" "$(cost_query "$TOTAL")")
  done
done
for mode in keep remove; do
  echo "median events/s, rows ${mode}: $(tr ' ' '\n' <<<"${rates[$mode]}" | grep . | median)"
done
