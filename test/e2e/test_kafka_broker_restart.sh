#!/usr/bin/env bash
# The only broker (Apache Kafka, a node of this test's own) stopped for 16 s and
# restarted on its data: what was produced before is still there at the same offsets,
# orders created meanwhile are answered 201 (committed to PostgreSQL) and their events
# wait in the outbox, /readyz says the broker is gone and back and shows the events
# waiting for it (503 with outbox.waiting > 0, then 200 with 0), the outbox drains after
# the restart and the consumer group carries on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"

# Past the relays' 5 s message timeout and the consumer's 10 s session timeout, so that
# both lose the broker for real.
OUTAGE_S=${OUTAGE_S:-16}
own_cluster 1
DB=$(fresh_database)
PORT=$(free_port)
start_saga_service "$DB" "$PORT" "e2e-kafka-restart-$$"
USER_ID=$(uuid)
T=$E2E_TMP/restart
mkdir -p "$T"

# --- before: orders whose events are on the topic, one of them RESERVED through it
BEFORE=()
for i in $(seq 20); do BEFORE+=("$(create_order "$USER_ID" "before-$i")"); done
sent() { [[ $(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status <> 'SENT'") == 0 ]]; }
check "before: the outbox drains" wait_for 30 "every outbox row SENT" sent
inventory_reserved "${BEFORE[0]}"
check "before: RESERVED through the broker" wait_for 30 RESERVED status_is "$DB" "${BEFORE[0]}" RESERVED/
topic_events order.v1.events >"$T/before"
check "before: the 20 ORDER_CREATED on the topic" eq \
  "$(awk '$1 == "ORDER_CREATED" { print $2 }' "$T/before" | sort -u | wc -l)" 20

# --- the broker stops (SIGTERM, a controlled shutdown) for OUTAGE_S seconds
"$KAFKA_CTL" term "$CLUSTER_DIR" 1
STOPPED_AT=$SECONDS
not_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz") == 503 ]]; }
check "readyz 503 while the broker is gone" wait_for 20 "readyz 503" not_ready
DURING=() CODES=()
# The service's oldest open transaction and snapshot (xmin age, in transactions), sampled
# through the outage: a relay must not hold a transaction open while Kafka is away, or
# vacuum and HOT updates stop for the whole database (issue 11 item 5).
OLDEST_XACT_MS=0 OLDEST_XMIN_AGE=0
sample_transactions() {
  local xact xmin
  IFS='|' read -r xact xmin < <(sql "$DB" "SELECT
    coalesce(max(extract(epoch FROM clock_timestamp() - xact_start) * 1000), 0)::bigint,
    coalesce(max(age(backend_xmin)), 0)
    FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
  ((xact > OLDEST_XACT_MS)) && OLDEST_XACT_MS=$xact
  ((xmin > OLDEST_XMIN_AGE)) && OLDEST_XMIN_AGE=$xmin
  return 0
}
while ((SECONDS - STOPPED_AT < OUTAGE_S)); do
  sample_transactions
  req POST /api/v1/orders '{"user_id":"'"$USER_ID"'","currency":"EUR","total_amount":25.00,
    "items":[{"sku_id":"sku-1","quantity":2,"price":12.50}]}' -H "X-Idempotency-Key: during-${#CODES[@]}"
  CODES+=("$STATUS")
  [[ $STATUS == 201 ]] && DURING+=("$(json .data.id)")
  sleep 0.5 # a create every half second through the outage
done
echo "outage: ${#CODES[@]} creates in $((SECONDS - STOPPED_AT)) s, ${#DURING[@]} answered 201"
check "every create during the outage answered 201" eq "${#DURING[@]}" "${#CODES[@]}"
echo "outage: oldest transaction of the service ${OLDEST_XACT_MS} ms, oldest xmin age ${OLDEST_XMIN_AGE}"
# Far below the outage: no transaction waits for Kafka (a relay's claim and its record
# are short transactions of their own; the message timeout, 5 s, bounds a batch).
check "no transaction lives through the outage (oldest ${OLDEST_XACT_MS} ms)" \
  test "$OLDEST_XACT_MS" -lt 5000
check "the xmin horizon stays young (oldest age ${OLDEST_XMIN_AGE} of ${#CODES[@]} creates)" \
  test "$OLDEST_XMIN_AGE" -lt "${#CODES[@]}"
check "creates during the outage" test "${#DURING[@]}" -ge 20
IN_LIST=$(printf "'%s'," "${DURING[@]}")
IN_LIST=${IN_LIST%,}
check "their events wait in the outbox" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events
  WHERE aggregate_id IN ($IN_LIST) AND status = 'PENDING'")" "${#DURING[@]}"
backlog_shown() { (($(metric outbox_pending_rows) >= ${#DURING[@]})); }
check "the backlog on /metrics" wait_for 10 "outbox_pending_rows >= ${#DURING[@]}" backlog_shown
check "nothing DEAD" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status = 'DEAD'")" 0
# /readyz: 503, Kafka down, and the events of the outage waiting for the broker (each
# has failed an attempt after its 5 s message timeout and waits for its retry).
readyz() { curl -s -o "$E2E_TMP/readyz" -w '%{http_code}' "$BASE/readyz"; }
readyz_has() { jq -e "$1" "$E2E_TMP/readyz" >/dev/null 2>&1; } # a jq condition on the last body
waiting_shown() {
  [[ $(readyz) == 503 ]] && readyz_has ".kafka == \"down\" and .outbox.waiting >= ${#DURING[@]}"
}
check "readyz 503 shows the events waiting for the broker" wait_for 30 \
  "readyz 503 with outbox.waiting >= ${#DURING[@]}" waiting_shown
echo "readyz during the outage: $(cat "$E2E_TMP/readyz")"
check "readyz names the pending rows too" readyz_has ".outbox.pending >= ${#DURING[@]}"

# --- restarted on its data
RESTART_AT=$SECONDS
"$KAFKA_CTL" restart "$CLUSTER_DIR" 1
BROKER_UP_S=$((SECONDS - RESTART_AT))
check "readyz 200 after the restart" wait_for 60 "readyz 200" ready
check "the outbox drains after the restart" wait_for 60 "every outbox row SENT" sent
DRAIN_S=$((SECONDS - RESTART_AT))
nothing_waiting() {
  [[ $(readyz) == 200 ]] && readyz_has '.outbox.waiting == 0 and .outbox.pending == 0'
}
check "readyz 200 with nothing waiting after the restart" wait_for 10 \
  "readyz 200 with outbox.waiting 0" nothing_waiting
echo "readyz after the restart: $(cat "$E2E_TMP/readyz")"
topic_events order.v1.events >"$T/after"
check "everything produced before is still there, at the same offsets" eq \
  "$(comm -23 <(awk '{ print $3, $4, $5 }' "$T/before" | sort) <(awk '{ print $3, $4, $5 }' "$T/after" | sort) | wc -l)" 0
awk '$1 == "ORDER_CREATED" { print $2 }' "$T/after" | sort -u >"$T/after_orders"
check "every order's ORDER_CREATED on the topic" eq \
  "$(comm -23 <(printf '%s\n' "${BEFORE[@]}" "${DURING[@]}" | sort -u) "$T/after_orders" | wc -l)" 0
check "every outbox event on the topic" eq "$(comm -23 <(sql "$DB" "SELECT event_id FROM outbox_events" | sort -u) \
  <(awk '{ print $3 }' "$T/after" | sort -u) | wc -l)" 0

# The consumer group carries on from its committed offsets: the event consumed before
# the outage is not applied again, a new one for an order of the outage is.
inventory_reserved "${DURING[0]}"
check "after: RESERVED through the restarted broker" wait_for 60 RESERVED status_is "$DB" "${DURING[0]}" RESERVED/
check "after: one inbox row each" eq "$(sql "$DB" "SELECT count(*) FROM processed_events")" 2

echo "figures: outage $OUTAGE_S s, broker up ${BROKER_UP_S} s after the restart, outbox drained ${DRAIN_S} s after it"
finish
