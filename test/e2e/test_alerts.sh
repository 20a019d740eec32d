#!/usr/bin/env bash
# docs/alerts.yml (issue 19, item 4): the rules load (promtool check rules), their unit
# tests pass (promtool test rules test/alerts/alerts_test.yml: each alert fires on the
# series that should page and stays quiet on healthy ones), the live /metrics of a
# running service passes `promtool check metrics`, and every metric a rule reads is one
# the service exposes (a rule on a misspelt metric would never fire).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
SRC=${FLASHSALE_SOURCE_DIR:-$(dirname "$0")/../..}
command -v promtool >/dev/null || { echo "promtool is needed (Debian: prometheus; ./dev.sh installs it)" >&2; exit 1; }

check "promtool check rules docs/alerts.yml" promtool check rules "$SRC/docs/alerts.yml"
check "promtool test rules" promtool test rules "$SRC/test/alerts/alerts_test.yml"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-alerts-$$-$RANDOM"
# Some counters appear at their first increment: make the service count a little.
ORDER=$(create_order "$(uuid)" alerts-1)
MARK="alerts-$$-$RANDOM"
produce inventory.v1.events "$ORDER" INVENTORY_RESERVED "not json $MARK"
dlq_counted() { (($(metric saga_events_dlq_total) >= 1)); }
check "a poison message counted" wait_for 30 "saga_events_dlq_total" dlq_counted
curl -fsS "$BASE/metrics" >"$E2E_TMP/metrics"
check "promtool check metrics on the live /metrics" bash -c "promtool check metrics <'$E2E_TMP/metrics'"
promtool check metrics <"$E2E_TMP/metrics" || true

# Every metric name in an expr is on /metrics (histograms as NAME_bucket and friends).
mapfile -t USED < <(grep -E '^ *expr:|^ +(sum|max)\(' -A3 "$SRC/docs/alerts.yml" | grep -oE '\b[a-z]+(_[a-z]+)+\b' |
  grep -vE '^(clamp_min|by_)' | sort -u)
check "the rules read metrics (found ${#USED[@]})" test "${#USED[@]}" -ge 8
# A counter with labels appears at its first increment: those must be registered in the code.
is_metric() {
  grep -qE "^$1(\{| )" "$E2E_TMP/metrics" ||
    grep -rqE --include='*.cpp' "get_counter\(\"$1\"" "$SRC/actors" "$SRC/http" "$SRC/app" "$SRC/metrics"
}
for m in "${USED[@]}"; do check "$m is a metric of the service" is_metric "$m"; done
check "service_ready is 1 while /readyz is 200" grep -qx 'service_ready 1' "$E2E_TMP/metrics"
finish
