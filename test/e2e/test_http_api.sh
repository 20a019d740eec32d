#!/usr/bin/env bash
# The HTTP API of CONTRACT §3 against the real binary, a real PostgreSQL and the
# embedded Kafka broker: every endpoint, its status and error codes, idempotency,
# hostile input, and rows in the database matching every 201.
source "$(dirname "$0")/lib.sh"

DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http
wait_for 30 "readyz 200" ready

USER_ID=$(cat /proc/sys/kernel/random/uuid)
OTHER_USER=$(cat /proc/sys/kernel/random/uuid)
ORDER_BODY='{"user_id":"'$USER_ID'","currency":"EUR","total_amount":26.00,
 "items":[{"sku_id":"sku-1","quantity":2,"price":12.5},{"sku_id":"sku-2","quantity":1,"price":1.00}]}'

# --- operations
req GET /healthz ''
check "healthz 200" eq "$STATUS" 200
req GET /readyz ''
check "readyz 200" eq "$STATUS" 200

# --- create, replay, key reuse
req POST /api/v1/orders "$ORDER_BODY" -H 'X-Idempotency-Key: e2e-1'
check "create 201" eq "$STATUS" 201
ORDER_ID=$(json .data.id)
check "create status CREATED" eq "$(json .data.status)" CREATED
check "create Location" has_header Location "/api/v1/orders/$ORDER_ID"
check "total as exact number" grep -q '"total_amount":26.00' <<<"$BODY"
check "price as exact number" grep -q '"price":12.50' <<<"$BODY"
check "deadline present" eq "$(json '.data.expired_at | type')" number
check "no reason while CREATED" eq "$(json '.data | has("reason")')" false
FIRST_BODY=$BODY

req POST /api/v1/orders "$ORDER_BODY" -H 'X-Idempotency-Key: e2e-1'
check "replay 201" eq "$STATUS" 201
check "replay header" has_header Idempotent-Replayed true
check "replay same body" eq "$BODY" "$FIRST_BODY"

req POST /api/v1/orders/order "${ORDER_BODY/26.00/26}" -H 'X-Idempotency-Key: e2e-1'
check "alias + other spelling of the same total replays" eq "$(json .data.id)" "$ORDER_ID"

req POST /api/v1/orders "${ORDER_BODY/sku-2/sku-3}" -H 'X-Idempotency-Key: e2e-1'
check "key reuse 422" eq "$STATUS" 422
check "key reuse code" eq "$(json .error.code)" IDEMPOTENCY_KEY_REUSED

# --- bad input
req POST /api/v1/orders "$ORDER_BODY"
check "missing key 400" eq "$(json .error.code)" INVALID_REQUEST
req POST /api/v1/orders "$ORDER_BODY" -H "X-Idempotency-Key: $(printf 'k%.0s' {1..65})"
check "65-char key 400" eq "$STATUS" 400
req POST /api/v1/orders '{"user_id":' -H 'X-Idempotency-Key: bad-1'
check "malformed JSON" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
req POST /api/v1/orders '[1,2,3]' -H 'X-Idempotency-Key: bad-2'
check "not an object" eq "$(json .error.code)" INVALID_REQUEST
req POST /api/v1/orders "${ORDER_BODY/\"quantity\":2/\"quantity\":\"2\"}" -H 'X-Idempotency-Key: bad-3'
check "string quantity" eq "$(json .error.code)" INVALID_REQUEST
req POST /api/v1/orders "${ORDER_BODY/$USER_ID/not-a-uuid}" -H 'X-Idempotency-Key: bad-4'
check "malformed user_id" eq "$(json .error.code)" INVALID_REQUEST
req POST /api/v1/orders "${ORDER_BODY/12.5/12.505}" -H 'X-Idempotency-Key: bad-5'
check "3 decimals" eq "$STATUS/$(json .error.code)" 400/VALIDATION_FAILED
req POST /api/v1/orders "${ORDER_BODY/26.00/26.01}" -H 'X-Idempotency-Key: bad-6'
check "total mismatch" eq "$(json .error.code)" VALIDATION_FAILED
check "message names total_amount" grep -q total_amount <<<"$(json .error.message)"
req POST /api/v1/orders "${ORDER_BODY/26.00/1e400}" -H 'X-Idempotency-Key: bad-7'
check "huge number" eq "$STATUS" 400
req POST /api/v1/orders "${ORDER_BODY/EUR/eur}" -H 'X-Idempotency-Key: bad-8'
check "lower-case currency" eq "$(json .error.code)" VALIDATION_FAILED
ITEMS=$(printf '{"sku_id":"s","quantity":1,"price":1},%.0s' {1..101})
req POST /api/v1/orders '{"user_id":"'$USER_ID'","currency":"EUR","total_amount":101,"items":['"${ITEMS%,}"']}' \
  -H 'X-Idempotency-Key: bad-9'
check "101 items" eq "$(json .error.code)" VALIDATION_FAILED
BIG=$(head -c 70000 /dev/zero | tr '\0' 'a')
req POST /api/v1/orders '{"pad":"'"$BIG"'"}' -H 'X-Idempotency-Key: bad-10'
check "70 KB body 413" eq "$STATUS/$(json .error.code)" 413/PAYLOAD_TOO_LARGE
req POST /api/v1/orders "$(printf '[%.0s' {1..5000})" -H 'X-Idempotency-Key: bad-11'
check "deep nesting" eq "$STATUS" 400

# --- get, list
req GET "/api/v1/orders/$ORDER_ID" ''
check "get 200" eq "$STATUS/$(json .data.id)" "200/$ORDER_ID"
check "get items" eq "$(json '.data.items | length')" 2
req GET "/api/v1/orders/$(cat /proc/sys/kernel/random/uuid)" ''
check "unknown order 404" eq "$STATUS/$(json .error.code)" 404/ORDER_NOT_FOUND
req GET /api/v1/orders/nope ''
check "malformed id 400" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
req POST /api/v1/orders "${ORDER_BODY}" -H 'X-Idempotency-Key: e2e-2'
SECOND_ID=$(json .data.id)
req GET "/api/v1/orders?user_id=$USER_ID&limit=1" ''
check "list newest first" eq "$STATUS/$(json '.data | length')/$(json '.data[0].id')" "200/1/$SECOND_ID"
req GET "/api/v1/orders?user_id=$USER_ID&limit=1&offset=1" ''
check "list offset" eq "$(json '.data[0].id')" "$ORDER_ID"
req GET "/api/v1/orders?user_id=$USER_ID&limit=0" ''
check "list limit 0" eq "$(json .error.code)" VALIDATION_FAILED
req GET "/api/v1/orders?limit=5" ''
check "list without user" eq "$(json .error.code)" INVALID_REQUEST

# --- cancel
req POST "/api/v1/orders/$ORDER_ID/cancel" '{"reason":"USER_CANCEL"}' -H "X-User-Id: $OTHER_USER"
check "cancel by another user 403" eq "$STATUS/$(json .error.code)" 403/FORBIDDEN
req POST "/api/v1/orders/$ORDER_ID/cancel" '{"reason":"BECAUSE"}'
check "cancel reason validated" eq "$(json .error.code)" VALIDATION_FAILED
req POST "/api/v1/orders/$ORDER_ID/cancel" '{"reason":"USER_CANCEL"}' -H "X-User-Id: $USER_ID"
check "cancel 200" eq "$STATUS/$(json .data.status)/$(json .data.reason)" 200/CANCELLED/USER_CANCEL
check "no deadline when cancelled" eq "$(json '.data | has("expired_at")')" false
req POST "/api/v1/orders/$ORDER_ID/cancel" '{"reason":"USER_CANCEL"}'
check "cancel again 200" eq "$STATUS/$(json .data.status)" 200/CANCELLED
req POST "/api/v1/orders/$(cat /proc/sys/kernel/random/uuid)/cancel" '{"reason":"USER_CANCEL"}'
check "cancel unknown 404" eq "$STATUS" 404
sql "$DB" "UPDATE orders SET status='PAID', expired_at=NULL WHERE id='$SECOND_ID'" >/dev/null
req POST "/api/v1/orders/$SECOND_ID/cancel" '{"reason":"USER_CANCEL"}'
check "cancel PAID 409" eq "$STATUS/$(json .error.code)" 409/ORDER_INVALID_STATE

# --- routes and methods
req GET /nope ''
check "unknown route 404 JSON" eq "$STATUS/$(json .error.code)" 404/NOT_FOUND
req DELETE "/api/v1/orders/$ORDER_ID" ''
check "wrong method 405" eq "$STATUS/$(json .error.code)" 405/METHOD_NOT_ALLOWED
# RFC 9110 §15.5.6: a 405 names the methods the path has.
check "405 lists the path's methods in Allow" has_header Allow 'GET$'
req TRACE /api/v1/orders ''
check "405 on the collection: Allow: GET, POST" has_header Allow 'GET, POST$'
req GET "/api/v1/orders/$ORDER_ID/cancel" ''
check "405 on cancel: Allow: POST" has_header Allow 'POST$'
req PUT /metrics ''
check "405 on /metrics: Allow: GET" has_header Allow 'GET$'
req GET /api/v1/orders/order ''
check "405 on the create alias: Allow: POST" has_header Allow 'POST$'

# --- 64 identical concurrent requests -> one order
seq 64 | xargs -P 64 -I{} curl -sS -o /dev/null -w '%{http_code}\n' -X POST \
  -H 'X-Idempotency-Key: stampede' -H 'Content-Type: application/json' \
  --data-binary "$ORDER_BODY" "$BASE/api/v1/orders" >"$E2E_TMP/codes"
check "64 concurrent all 201" eq "$(sort -u "$E2E_TMP/codes")" 201
check "64 concurrent -> one order" eq \
  "$(sql "$DB" "SELECT count(*) FROM orders WHERE idempotency_key='stampede'")" 1

# --- database rows match the 201s: 3 distinct orders, 2 items each, one ORDER_CREATED each
check "orders rows" eq "$(sql "$DB" "SELECT count(*) FROM orders")" 3
check "item rows" eq "$(sql "$DB" "SELECT count(*) FROM order_items")" 6
check "created events" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE event_type='ORDER_CREATED'")" 3
check "cancelled event" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events WHERE event_type='ORDER_CANCELLED'")" 1

# --- metrics
req GET /metrics ''
check "metrics per route" grep -q 'http_requests_total{route="/api/v1/orders",method="POST",status="201"}' <<<"$BODY"
check "latency histogram" grep -q 'http_request_duration_seconds_bucket' <<<"$BODY"

finish
