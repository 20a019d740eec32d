# Helpers for the saga tests (test_saga_*.sh), sourced after lib.sh: the service with
# the consumer role and a group id of its own, events of CONTRACT §5 produced with kcat,
# and waits on the database. The broker is shared by all tests: everything read from a
# topic is filtered by this test's order ids.

# Set by req; helpers that call req run in subshells, so start with empty values
# (lib.sh's check prints them).
STATUS=${STATUS-} BODY=${BODY-}

uuid() { cat /proc/sys/kernel/random/uuid; }
now_rfc3339() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

# start_saga_service DB PORT GROUP [VAR=value ...]: all roles, consumer group GROUP.
start_saga_service() {
  local db=$1 port=$2 group=$3
  shift 3
  start_service "$db" "$port" KAFKA_GROUP_ID="$group" "$@"
  BASE="http://127.0.0.1:$port"
  wait_for 30 "readyz 200" ready
}

# create_order USER KEY: POST /api/v1/orders with one item; prints the order id.
create_order() {
  req POST /api/v1/orders '{"user_id":"'"$1"'","currency":"EUR","total_amount":25.00,
    "items":[{"sku_id":"sku-1","quantity":2,"price":12.50}]}' -H "X-Idempotency-Key: $2"
  [[ $STATUS == 201 ]] || { echo "create failed: $STATUS $BODY" >&2; return 1; }
  json .data.id
}

# envelope TYPE ORDER_ID PAYLOAD_MEMBERS [EVENT_ID]: one line of JSON.
envelope() {
  local type=$1 order=$2 members=$3 id=${4:-$(uuid)}
  printf '{"event_id":"%s","event_type":"%s","occurred_at":"%s","schema_version":1,"payload":{"order_id":"%s"%s}}' \
    "$id" "$type" "$(now_rfc3339)" "$order" "${members:+,$members}"
}

# produce TOPIC KEY TYPE VALUE...: one message per VALUE, in order, header event_type.
produce() {
  local topic=$1 key=$2 type=$3
  shift 3
  printf '%s\n' "$@" | kcat -P -b "$KAFKA_BROKERS" -t "$topic" -k "$key" -H "event_type=$type"
}

inventory_reserved() { # ORDER [EVENT_ID]
  produce inventory.v1.events "$1" INVENTORY_RESERVED "$(envelope INVENTORY_RESERVED "$1" \
    '"items":[{"item_id":"sku-1","quantity":2}],"reservation_expires_at":"'"$(now_rfc3339)"'"' "${2-}")"
}
reservation_failed() { # ORDER
  produce inventory.v1.events "$1" INVENTORY_RESERVATION_FAILED "$(envelope \
    INVENTORY_RESERVATION_FAILED "$1" '"failed_items":[{"item_id":"sku-1","quantity":2}],"reason":"STOCK_EXHAUSTED"')"
}
intent_created() { # ORDER INTENT
  produce payment.v1.events "$1" PAYMENT_INTENT_CREATED "$(envelope PAYMENT_INTENT_CREATED "$1" \
    '"payment_intent_id":"'"$2"'","amount":25.00,"currency":"EUR","expires_at":"'"$(now_rfc3339)"'"')"
}
payment_succeeded() { # ORDER INTENT [EVENT_ID]
  produce payment.v1.events "$1" PAYMENT_SUCCEEDED "$(envelope PAYMENT_SUCCEEDED "$1" \
    '"payment_intent_id":"'"$2"'","gateway_event_id":"'"$(uuid)"'","paid_at":"'"$(now_rfc3339)"'"' "${3-}")"
}
payment_failed() { # ORDER INTENT
  produce payment.v1.events "$1" PAYMENT_FAILED "$(envelope PAYMENT_FAILED "$1" \
    '"payment_intent_id":"'"$2"'","gateway_event_id":"'"$(uuid)"'","reason":"CARD_DECLINED"')"
}

# Database views of one order (DB and ORDER_ID arguments first).
order_status() { sql "$1" "SELECT status || '/' || coalesce(reason, '') FROM orders WHERE id = '$2'"; }
status_is() { [[ $(order_status "$1" "$2") == "$3" ]]; }
outbox_count() { # DB ORDER_ID EVENT_TYPE
  sql "$1" "SELECT count(*) FROM outbox_events WHERE aggregate_id = '$2' AND event_type = '$3'"
}
outbox_has() { [[ $(outbox_count "$@") -ge 1 ]]; }
inbox_count() { # DB ORDER_ID
  sql "$1" "SELECT count(*) FROM processed_events WHERE order_id = '$2'"
}
inbox_has() { # DB ORDER_ID EVENT_TYPE
  [[ $(sql "$1" "SELECT count(*) FROM processed_events WHERE order_id = '$2' AND event_type = '$3'") -ge 1 ]]
}

# topic_lines TOPIC: every message as "key|headers|value", from the beginning.
topic_lines() {
  kcat -C -q -b "$KAFKA_BROKERS" -t "$1" -e -o beginning -f '%k|%h|%s\n' 2>/dev/null
}
# on_topic TOPIC ORDER_ID EVENT_TYPE: the order's event is in the topic.
on_topic() { topic_lines "$1" | grep "^$2|" | grep -q "\"event_type\":\"$3\""; }

# metric NAME_WITH_LABELS: its value from /metrics (0 when absent).
metric() {
  curl -fsS "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'
}
