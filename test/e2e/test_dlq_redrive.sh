#!/usr/bin/env bash
# flashsale-order dlq list|replay (issue 19, item 5), with kcat as the independent peer.
# A poison INVENTORY_RESERVED (its JSON cut short) goes to order.v1.dlq; `dlq list` shows
# it; `dlq replay --dry-run` sends nothing; an operator repairs it by hand and puts the
# repaired copy on the DLQ with the copy's headers; `dlq replay` sends both back to
# inventory.v1.events with dlq_redrive_count=1 and without the DLQ headers: the repaired
# one takes effect (RESERVED), the broken one comes back to the DLQ. A rerun does not send
# the repaired one again (the group's offsets), the broken one goes round until
# DLQ_MAX_REDRIVES, then it is refused. The repaired one redriven twice takes effect once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"

DB=$(fresh_database)
start_saga_service "$DB" "$(free_port)" "e2e-dlq-redrive-$$-$RANDOM"
MARK="redrive-$$-$RANDOM"
export DLQ_GROUP_ID="e2e-dlq-redrive-$MARK" DLQ_MAX_REDRIVES=2
dlq() { env KAFKA_BROKERS="$KAFKA_BROKERS" "$FLASHSALE_BIN" dlq "$@" 2>>"$E2E_TMP/dlq.err"; }
# The DLQ is shared by the suite: this group starts at its end (a replay of a reason no
# message has passes over every message and commits past them).
check "the group skips the suite's earlier dead letters" dlq replay --reason "none-$MARK" >/dev/null
tail -n 1 "$E2E_TMP/dlq.err"

ORDER=$(create_order "$(uuid)" redrive-1)
EVENT=$(uuid)
GOOD=$(envelope INVENTORY_RESERVED "$ORDER" \
  '"items":[{"item_id":"sku-1","quantity":2}],"reservation_expires_at":"'"$(now_rfc3339)"'"' "$EVENT")
BROKEN=${GOOD%\}\}} # the last two braces lost on the way
produce inventory.v1.events "$ORDER" INVENTORY_RESERVED "$BROKEN"
dlq_copies() { topic_lines order.v1.dlq | grep -F "$EVENT" || true; }
copies_are() { [[ $(dlq_copies | wc -l) -ge $1 ]]; }
check "the poison message reaches the DLQ" wait_for 30 "DLQ copy" copies_are 1
check "still CREATED" status_is "$DB" "$ORDER" CREATED/

# Every service of the suite reads the saga topics from the beginning (a group of its own,
# auto.offset.reset=earliest), so earlier tests' poison messages reach the DLQ again
# while this test runs: the checks look at this test's order only.
mine() { jq -c --arg k "$ORDER" 'select(.key == $k)' "$1"; }
dlq list >"$E2E_TMP/list"
check "dlq list shows it" eq "$(mine "$E2E_TMP/list" | jq -r '.outcome + " " + (.dlq_reason | split(":")[0])')" "listed not_json"
check "dlq list shows this test's message once" eq "$(mine "$E2E_TMP/list" | wc -l)" 1
check "dlq list shows the value" eq "$(mine "$E2E_TMP/list" | jq -r .value)" "$BROKEN"

on_source() { topic_lines inventory.v1.events | grep -cF "$EVENT" || true; }
dlq replay --dry-run >"$E2E_TMP/dry"
check "dry run: would replay it" eq "$(mine "$E2E_TMP/dry" | jq -r .outcome)" would_replay
check "dry run: nothing sent" eq "$(on_source)" 1

# Repaired by hand: the copy's value fixed, put on the DLQ with the copy's headers.
COPY_HEADERS=$(kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.dlq -e -o beginning -J 2>/dev/null |
  jq -r --arg e "$EVENT" 'select(.payload | contains($e)) | .headers as $h | [range(0; $h | length; 2) | "-H", "\($h[.])=\($h[. + 1])"] | .[]')
mapfile -t HDR_ARGS <<<"$COPY_HEADERS"
printf '%s\n' "$GOOD" | kcat -P -b "$KAFKA_BROKERS" -t order.v1.dlq -k "$ORDER" "${HDR_ARGS[@]}"
check "the repaired copy is on the DLQ" wait_for 10 "repaired copy" copies_are 2

check "dlq replay succeeds" dlq replay >"$E2E_TMP/replay1"
check "both replayed" eq "$(mine "$E2E_TMP/replay1" | jq -r .outcome | sort | uniq -c | tr -s ' ')" " 2 replayed"
check "the repaired event takes effect" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/
# (The replay partitions by murmur2 of the key as the contract says; kcat's own
# partitioner may have put the original elsewhere, so select by header, not position.)
RESENT=$(topic_lines inventory.v1.events | grep -F "$EVENT" | grep 'dlq_redrive_count=' || true)
check "replayed with dlq_redrive_count=1" eq "$(grep -c 'dlq_redrive_count=1' <<<"$RESENT")" 2
check "replayed with the original header" eq "$(grep -c 'event_type=INVENTORY_RESERVED' <<<"$RESENT")" 2
check "replayed without the DLQ headers" eq "$(grep -cE 'dlq_reason=|source_topic=' <<<"$RESENT")" 0
check "replayed with its key" eq "$(cut -d'|' -f1 <<<"$RESENT" | sort -u)" "$ORDER"
check "the broken one comes back to the DLQ" wait_for 30 "second DLQ copy" copies_are 3
check "with dlq_redrive_count=1" grep -q 'dlq_redrive_count=1' <<<"$(dlq_copies)"

check "a rerun: only the broken one's new copy" dlq replay >"$E2E_TMP/replay2"
check "one replayed" eq "$(mine "$E2E_TMP/replay2" | jq -r .outcome)" replayed
check "the repaired one was not sent again" eq "$(topic_lines inventory.v1.events | grep -F "$GOOD" | wc -l)" 1
check "back in the DLQ a third time" wait_for 30 "third DLQ copy" copies_are 4
dlq replay >"$E2E_TMP/replay3"
check "at DLQ_MAX_REDRIVES: refused" eq "$(mine "$E2E_TMP/replay3" | jq -r '.outcome + " " + (.redrive_count | tostring)')" "refused 2"
check "nothing more sent" eq "$(on_source)" 4

no_effect() { echo $(($(metric 'saga_events_handled_total{outcome="duplicate"}') + $(metric 'saga_events_handled_total{outcome="ignored"}'))); }
# The repaired event once more (put on the DLQ again by mistake): delivered, no effect.
printf '%s\n' "$GOOD" | kcat -P -b "$KAFKA_BROKERS" -t order.v1.dlq -k "$ORDER" "${HDR_ARGS[@]}"
check "the second repaired copy is on the DLQ" wait_for 10 "repaired copy" copies_are 5
NO_EFFECT=$(no_effect)
dlq replay >"$E2E_TMP/replay4"
check "replayed again" eq "$(mine "$E2E_TMP/replay4" | jq -r .outcome)" replayed
consumed_twice() { [[ $(topic_lines inventory.v1.events | grep -F "$GOOD" | wc -l) -ge 2 ]]; }
check "sent to inventory.v1.events" wait_for 10 "second send" consumed_twice
# A RESERVED order takes no INVENTORY_RESERVED: counted as a duplicate or as ignored.
handled() { (($(no_effect) > NO_EFFECT)); }
check "the second delivery handled without effect" wait_for 30 "the duplicate handled" handled
check "taken effect once: one inbox row" eq "$(sql "$DB" "SELECT count(*) FROM processed_events WHERE event_id = '$EVENT'")" 1
check "still RESERVED" status_is "$DB" "$ORDER" RESERVED/
check "no usage errors" eq "$(grep -c 'usage' "$E2E_TMP/dlq.err")" 0
finish
