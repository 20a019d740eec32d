#!/usr/bin/env bash
# The broker answers but order.v1.events does not exist (deleted here; auto-creation is
# off, as in production): creates are answered 201, their events wait in the outbox and
# are retried without limit, never DEAD; /readyz stays 200 (the broker is reachable) and
# shows them as outbox.waiting, /metrics as outbox_waiting_rows. Once the topic exists
# again the outbox drains and readyz shows nothing waiting (CONTRACT §5, issue 11 item 5).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"

own_cluster 1
topics() { "$KAFKA_CTL" tool kafka-topics --bootstrap-server "$KAFKA_BROKERS" "$@"; }
topics --delete --topic order.v1.events >/dev/null
topic_gone() { ! topics --list 2>/dev/null | grep -qx order.v1.events; }
check "order.v1.events deleted" wait_for 30 "order.v1.events gone" topic_gone

DB=$(fresh_database)
PORT=$(free_port)
start_saga_service "$DB" "$PORT" "e2e-missing-topic-$$"
USER_ID=$(uuid)
ORDERS=()
for i in $(seq 10); do ORDERS+=("$(create_order "$USER_ID" "missing-$i")"); done
check "ten creates answered 201" eq "${#ORDERS[@]}" 10

readyz() { curl -s -o "$E2E_TMP/readyz" -w '%{http_code}' "$BASE/readyz"; }
readyz_has() { jq -e "$1" "$E2E_TMP/readyz" >/dev/null 2>&1; }
waiting_shown() { [[ $(readyz) == 200 ]] && readyz_has '.kafka == "up" and .outbox.waiting >= 10'; }
check "readyz 200 with the ten events waiting" wait_for 60 "readyz outbox.waiting >= 10" waiting_shown
echo "readyz without the topic: $(cat "$E2E_TMP/readyz")"
waiting_metric() { (($(metric outbox_waiting_rows) >= 10)); }
check "outbox_waiting_rows on /metrics" wait_for 10 "outbox_waiting_rows >= 10" waiting_metric
check "nothing DEAD" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status = 'DEAD'")" 0
check "every event PENDING" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status = 'PENDING'")" 10

CREATED_AT=$SECONDS
topics --create --topic order.v1.events --partitions 8 --replication-factor 1 >/dev/null
sent() { [[ $(sql "$DB" "SELECT count(*) FROM outbox_events WHERE status <> 'SENT'") == 0 ]]; }
check "the outbox drains once the topic exists" wait_for 90 "every outbox row SENT" sent
echo "drained $((SECONDS - CREATED_AT)) s after the topic was created"
nothing_waiting() { [[ $(readyz) == 200 ]] && readyz_has '.outbox.waiting == 0 and .outbox.pending == 0'; }
check "readyz shows nothing waiting" wait_for 10 "readyz outbox.waiting 0" nothing_waiting
topic_events order.v1.events | awk '$1 == "ORDER_CREATED" { print $2 }' | sort -u >"$E2E_TMP/on_topic"
check "every order's ORDER_CREATED on the topic" eq \
  "$(comm -23 <(printf '%s\n' "${ORDERS[@]}" | sort -u) "$E2E_TMP/on_topic" | wc -l)" 0

finish
