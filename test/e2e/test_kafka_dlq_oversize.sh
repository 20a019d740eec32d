#!/usr/bin/env bash
# Poison messages the dead-letter topic cannot take whole (issue 9, item 4), on Apache
# Kafka (a node of this test's own, topics at max.message.bytes 1 MiB):
#  1. an unparseable message as large as inventory.v1.events accepts: our copy, with its
#     DLQ headers added, would not fit order.v1.dlq. It goes there at once with the
#     start of its value and a header dlq_truncated with the original size, the
#     partition's committed offset passes it and a valid event behind it applies;
#  2. order.v1.dlq shrunk (max.message.bytes 700) under the running service: a small
#     poison message's copy is refused by the broker (MESSAGE_TOO_LARGE), sent again
#     stripped to key and DLQ headers, and accepted so;
#  3. order.v1.dlq shrunk to 100 bytes: not even that fits. The message is skipped with
#     an error line and saga_events_dlq_lost_total, and the partition goes on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"

own_cluster 1
DB=$(fresh_database)
GROUP="e2e-dlq-oversize-$$"
start_saga_service "$DB" "$(free_port)" "$GROUP"
USER_ID=$(uuid)
MARK="oversize-$$-$RANDOM"
T=$E2E_TMP/oversize
mkdir -p "$T"
LIMIT=1048576 # KAFKA_MAX_MESSAGE_BYTES of tools/apache_kafka.sh, kafka::max_message_bytes

# produce_file TOPIC KEY FILE: the file as one message (header event_type), as large as
# the topic allows (kcat's own default limit is 1 000 000 bytes).
produce_file() {
  kcat -P -b "$KAFKA_BROKERS" -t "$1" -k "$2" -H event_type=INVENTORY_RESERVED \
    -X message.max.bytes="$LIMIT" -z none "$3"
}
# source_of TOPIC KEY TEXT: "partition offset" of the message of KEY that contains TEXT.
source_of() {
  kcat -C -q -b "$KAFKA_BROKERS" -t "$1" -o beginning -e -f '%k|%p|%o|%s\n' 2>/dev/null |
    grep -aF "$3" | awk -F'|' -v k="$2" '$1 == k { print $2, $3; exit }'
}
# dlq_copy OFFSET: "key|headers|value size" of the DLQ copy of inventory.v1.events OFFSET.
dlq_copy() {
  kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.dlq -o beginning -e -f '%k|%h|%S\n' 2>/dev/null |
    grep -aE "source_topic=inventory.v1.events,source_partition=$SRC_PARTITION,source_offset=$1(\||,)"
}
has_dlq_copy() { [[ -n $(dlq_copy "$1") ]]; }
# committed_past OFFSET: the group's committed offset of SRC_PARTITION is above OFFSET.
committed_past() {
  local c
  c=$("$KAFKA_CTL" tool kafka-consumer-groups --bootstrap-server "$KAFKA_BROKERS" --describe \
    --group "$GROUP" 2>/dev/null |
    awk -v p="$SRC_PARTITION" '$2 == "inventory.v1.events" && $3 == p { print $4 }')
  [[ $c =~ ^[0-9]+$ ]] && ((c > $1))
}
set_dlq_limit() {
  "$KAFKA_CTL" tool kafka-configs --bootstrap-server "$KAFKA_BROKERS" --alter \
    --entity-type topics --entity-name order.v1.dlq --add-config "max.message.bytes=$1" >/dev/null
}

# --- 1. as large as the source topic takes: truncated copy
ORDER=$(create_order "$USER_ID" oversize-1)
# The value fills the record batch up to the topic's limit, less the batch header (61),
# the record's own overhead, key and header.
SIZE=$((LIMIT - 200))
{
  printf 'not json at all %s ' "$MARK"
  head -c $((SIZE - ${#MARK} - 17)) /dev/zero | tr '\0' x
} >"$T/big"
check "the poison message is $SIZE bytes" eq "$(stat -c %s "$T/big")" "$SIZE"
check "the source topic accepts it" produce_file inventory.v1.events "$ORDER" "$T/big"
read -r SRC_PARTITION BIG_OFFSET <<<"$(source_of inventory.v1.events "$ORDER" "not json at all $MARK")"
check "found on inventory.v1.events" grep -Eq '^[0-9]+$' <<<"${BIG_OFFSET:-x}"
inventory_reserved "$ORDER" # the same key: the same partition, behind the poison

check "the valid event behind it applies" wait_for 30 RESERVED status_is "$DB" "$ORDER" RESERVED/
check "a copy in order.v1.dlq" wait_for 30 "DLQ copy of offset $BIG_OFFSET" has_dlq_copy "$BIG_OFFSET"
COPY=$(dlq_copy "$BIG_OFFSET" || true)
COPY_SIZE=${COPY##*|}
check "header dlq_truncated with the original size" grep -q "dlq_truncated=$SIZE" <<<"$COPY"
check "dlq_reason not_json" grep -q "dlq_reason=not_json" <<<"$COPY"
check "original header kept" grep -q "event_type=INVENTORY_RESERVED" <<<"$COPY"
check "key kept" eq "${COPY%%|*}" "$ORDER"
check "value cut, but only by a little ($COPY_SIZE of $SIZE bytes)" \
  eval '[[ $COPY_SIZE =~ ^[0-9]+$ ]] && ((COPY_SIZE < SIZE && COPY_SIZE > SIZE - 4096))'
kcat -C -q -b "$KAFKA_BROKERS" -t order.v1.dlq -o beginning -e -f '%s\n' 2>/dev/null |
  grep -aF "not json at all $MARK" | head -c 100 >"$T/copy_start" || true
check "the value's start kept" grep -qF "not json at all $MARK x" "$T/copy_start"
check "the committed offset passes it" wait_for 60 "committed > $BIG_OFFSET" committed_past "$BIG_OFFSET"
truncated_counted() { (($(metric saga_events_dlq_truncated_total) >= 1)); }
check "saga_events_dlq_truncated_total counts it" wait_for 10 "truncated counted" truncated_counted

# --- 2. the DLQ topic takes less than we think: refused, sent again without the value
set_dlq_limit 700
ORDER2=$(create_order "$USER_ID" oversize-2)
{
  printf 'not json either %s ' "$MARK"
  head -c 2000 /dev/zero | tr '\0' y
} >"$T/medium"
MEDIUM_SIZE=$(stat -c %s "$T/medium")
produce_file inventory.v1.events "$ORDER2" "$T/medium"
read -r SRC_PARTITION MEDIUM_OFFSET <<<"$(source_of inventory.v1.events "$ORDER2" "not json either $MARK")"
inventory_reserved "$ORDER2"
check "refused copy: a stripped one in order.v1.dlq" \
  wait_for 30 "DLQ copy of offset $MEDIUM_OFFSET" has_dlq_copy "$MEDIUM_OFFSET"
COPY=$(dlq_copy "$MEDIUM_OFFSET" || true)
check "stripped copy: dlq_truncated=$MEDIUM_SIZE" grep -q "dlq_truncated=$MEDIUM_SIZE" <<<"$COPY"
check "stripped copy: dlq_reason kept" grep -q "dlq_reason=not_json" <<<"$COPY"
check "stripped copy: no value" eq "${COPY##*|}" 0
check "stripped copy: behind it applies" wait_for 30 RESERVED status_is "$DB" "$ORDER2" RESERVED/
check "stripped copy: committed past it" \
  wait_for 60 "committed > $MEDIUM_OFFSET" committed_past "$MEDIUM_OFFSET"

# --- 3. nothing fits: the message is given up, clearly, and the partition goes on
set_dlq_limit 100
ORDER3=$(create_order "$USER_ID" oversize-3)
LOST_BEFORE=$(metric saga_events_dlq_lost_total)
printf 'not json at all, lost %s' "$MARK" >"$T/small"
produce_file inventory.v1.events "$ORDER3" "$T/small"
read -r SRC_PARTITION SMALL_OFFSET <<<"$(source_of inventory.v1.events "$ORDER3" "lost $MARK")"
inventory_reserved "$ORDER3"
lost_counted() { (($(metric saga_events_dlq_lost_total) > LOST_BEFORE)); }
check "lost: saga_events_dlq_lost_total counts it" wait_for 30 "lost counted" lost_counted
check "lost: an error line names it" grep -q "not copied to the DLQ.*\"offset\":\"$SMALL_OFFSET\"" \
  "$E2E_TMP"/service-*.log
check "lost: not in order.v1.dlq" eval '! has_dlq_copy "$SMALL_OFFSET"'
check "lost: behind it applies" wait_for 30 RESERVED status_is "$DB" "$ORDER3" RESERVED/
check "lost: committed past it" wait_for 60 "committed > $SMALL_OFFSET" committed_past "$SMALL_OFFSET"

finish
