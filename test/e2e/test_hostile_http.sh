#!/usr/bin/env bash
# HTTP as hostile or merely ordinary clients use it, against the real binary (CONTRACT
# §3, issues 10 and 12): persistent connections (RFC 9112 §9.3), closing when asked and
# when idle; JSON errors for bodies of any size and for what Pistache cannot parse;
# lone surrogate escapes; ownership by X-User-Id; replays answering the first body.
source "$(dirname "$0")/lib.sh"

DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http HTTP_KEEPALIVE_TIMEOUT_S=2
wait_for 30 "readyz 200" ready

# raw_exchange SECONDS REQUEST: sends REQUEST on a fresh connection and prints what
# comes back until the server closes; exit status 124 when it has not closed in time.
raw_exchange() {
  timeout "$1" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "$1" >&3; cat <&3' "$PORT" "$2"
}
connects() { awk '{ s += $1 } END { print s + 0 }'; }

# --- persistent by default: curl given two URLs reuses one connection
CONNECTS=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' "$BASE/healthz" "$BASE/healthz" | connects)
check "HTTP/1.1 without Connection: one connection for two requests" eq "$CONNECTS" 1
curl -sS -v -o /dev/null -o /dev/null "$BASE/healthz" "$BASE/readyz" 2>"$E2E_TMP/curl-v"
check "curl says it re-uses the connection" grep -q "Re-using existing connection" "$E2E_TMP/curl-v"
check "no Connection: close without a reason" eq "$(grep -ci '^< connection: close' "$E2E_TMP/curl-v")" 0
CONNECTS=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' -H 'Connection: close' \
  "$BASE/healthz" "$BASE/healthz" | connects)
check "Connection: close closes" eq "$CONNECTS" 2
CONNECTS=$(curl -0 -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' "$BASE/healthz" "$BASE/healthz" | connects)
check "HTTP/1.0 without keep-alive: one connection per request" eq "$CONNECTS" 2
CONNECTS=$(curl -0 -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' -H 'Connection: keep-alive' \
  "$BASE/healthz" "$BASE/healthz" | connects)
check "HTTP/1.0 with keep-alive persists" eq "$CONNECTS" 1

# --- the server closes when it said so, and closes idle connections
OUT=$(raw_exchange 5 'GET /healthz HTTP/1.0\r\n\r\n') && RC=0 || RC=$?
check "HTTP/1.0: answered, then closed by the server" eq "$RC/$(head -1 <<<"$OUT" | tr -d '\r')" "0/HTTP/1.0 200 OK"
OUT=$(raw_exchange 5 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') && RC=0 || RC=$?
check "Connection: close: answered, then closed by the server" eq "$RC/$(grep -ci '^connection: close' <<<"$OUT")" 0/1
START=$SECONDS
OUT=$(raw_exchange 10 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n') && RC=0 || RC=$?
check "idle persistent connection closed after HTTP_KEEPALIVE_TIMEOUT_S" eq "$RC" 0
check "... not at once" test $((SECONDS - START)) -ge 1

# --- wrk as it is (no headers): no socket errors, connections reused
wrk -t1 -c8 -d2s "$BASE/healthz" >"$E2E_TMP/wrk" 2>&1
REQUESTS=$(awk '/requests in/ {print $1}' "$E2E_TMP/wrk")
TIME_WAIT=$(ss -tanH state time-wait "( sport = :$PORT or dport = :$PORT )" | wc -l)
check "wrk: no socket errors" eq "$(grep -c 'Socket errors' "$E2E_TMP/wrk")" 0
check "wrk: over 1000 requests ($REQUESTS)" test "${REQUESTS:-0}" -gt 1000
check "wrk: connections reused ($TIME_WAIT closed for $REQUESTS requests)" test "$TIME_WAIT" -lt 100

USER_ID=$(cat /proc/sys/kernel/random/uuid)
OTHER_USER=$(cat /proc/sys/kernel/random/uuid)
order_body() { # order_body USER [SKU_JSON]
  echo '{"user_id":"'"$1"'","currency":"EUR","total_amount":2,"items":[{"sku_id":'"${2-\"sku-1\"}"',"quantity":2,"price":1}]}'
}

# --- 413 in JSON for a body of any size, answered before the body is read
head -c 1200000 /dev/zero | tr '\0' a >"$E2E_TMP/1.2MB"
head -c 10000000 /dev/zero | tr '\0' a >"$E2E_TMP/10MB"
for size in 1.2MB 10MB; do
  for expect in 'Expect: 100-continue' 'Expect:'; do
    req POST /api/v1/orders '' --data-binary "@$E2E_TMP/$size" -H 'X-Idempotency-Key: big' -H "$expect"
    check "$size body ($expect): 413 PAYLOAD_TOO_LARGE JSON" eq "$STATUS/$(json .error.code)" 413/PAYLOAD_TOO_LARGE
    check "$size body ($expect): the connection closes" has_header Connection close
  done
done
req POST /api/v1/orders '' --data-binary "@$E2E_TMP/1.2MB" -H 'X-Idempotency-Key: big' \
  -H 'Transfer-Encoding: chunked'
check "chunked 1.2 MB body: 413 JSON" eq "$STATUS/$(json .error.code)" 413/PAYLOAD_TOO_LARGE
req POST /api/v1/orders "$(head -c 70000 /dev/zero | tr '\0' a)" -H 'X-Idempotency-Key: big'
check "70 KB body: 413 JSON" eq "$STATUS/$(json .error.code)" 413/PAYLOAD_TOO_LARGE
CONNECTS=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' "$BASE/healthz" "$BASE/healthz" | connects)
check "after all that the service still answers on one connection" eq "$CONNECTS" 1

# --- what Pistache itself would have answered in plain text
req GET /healthz '' -H "X-Pad: $(head -c 20000 /dev/zero | tr '\0' a)"
check "20 KB of headers: 400 JSON" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
# A method Pistache does not know (QUERY, BREW) on a known path is as any other method the
# path lacks: 405 with Allow (docs/openapi.yaml, RFC 9110 §15.5.6); on no path 404.
OUT=$(raw_exchange 5 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n') || true
BODY=${OUT#*$'\r\n\r\n'}
HEADERS=$(tr -d '\r' <<<"${OUT%%$'\r\n\r\n'*}")
check "unknown method: 405 JSON ($(head -1 <<<"$OUT"))" eq "$(head -1 <<<"$OUT" | tr -d '\r')/$(json .error.code)" \
  "HTTP/1.1 405 Method Not Allowed/METHOD_NOT_ALLOWED"
check "unknown method: Allow: GET" has_header Allow 'GET$'
req QUERY /api/v1/orders '{}' -H 'X-Idempotency-Key: q'
check "QUERY on the collection: 405 JSON" eq "$STATUS/$(json .error.code)" 405/METHOD_NOT_ALLOWED
check "QUERY on the collection: Allow: GET, POST" has_header Allow 'GET, POST$'
OUT=$(raw_exchange 5 'BREW /nope?x=1 HTTP/1.1\r\nHost: x\r\n\r\n') || true
BODY=${OUT#*$'\r\n\r\n'}
check "unknown method on no route: 404 JSON" eq "$(head -1 <<<"$OUT" | tr -d '\r')/$(json .error.code)" \
  "HTTP/1.1 404 Not Found/NOT_FOUND"
OUT=$(raw_exchange 5 'BR(W /healthz HTTP/1.1\r\nHost: x\r\n\r\n') || true
BODY=${OUT#*$'\r\n\r\n'}
check "a method that is no token: 400 JSON" eq "$(head -1 <<<"$OUT" | tr -d '\r')/$(json .error.code)" \
  "HTTP/1.1 400 Bad Request/INVALID_REQUEST"
OUT=$(raw_exchange 5 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n') || true
BODY=${OUT#*$'\r\n\r\n'}
check "contradicting framing: 400 JSON" eq "$(json .error.code)" INVALID_REQUEST

# --- lone surrogate escapes: 400, and other users' creates around them unharmed
req POST /api/v1/orders "$(order_body "$USER_ID" '"\udc00"')" -H 'X-Idempotency-Key: sur-1'
check "sku \\udc00: 400 INVALID_REQUEST" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
req POST /api/v1/orders "$(order_body "$USER_ID" '"\ud800"')" -H 'X-Idempotency-Key: sur-2'
check "sku \\ud800 alone: 400 INVALID_REQUEST" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
req POST /api/v1/orders "$(order_body "$USER_ID" '"\ud83d\ude00"')" -H 'X-Idempotency-Key: sur-3'
check "sku with a surrogate pair: 201" eq "$STATUS/$(json .data.items[0].sku_id)" "201/$(printf '\xf0\x9f\x98\x80')"
for i in $(seq 40); do
  if ((i % 2)); then sku='"\udc00"'; else sku='"ok"'; fi
  echo "$(order_body "$(cat /proc/sys/kernel/random/uuid)" "$sku")" >"$E2E_TMP/mixed-$i"
done
seq 40 | xargs -P 40 -I{} curl -sS -o /dev/null -w '{} %{http_code}\n' -X POST \
  -H 'X-Idempotency-Key: mixed' -H 'Content-Type: application/json' \
  --data-binary "@$E2E_TMP/mixed-{}" "$BASE/api/v1/orders" >"$E2E_TMP/mixed-codes"
check "40 concurrent creates: the 20 with \\udc00 400, the 20 others 201" eq \
  "$(awk '{print ($1 % 2 ? "bad" : "good") " " $2}' "$E2E_TMP/mixed-codes" | sort | uniq -c | awk '{print $1, $2, $3}' | paste -sd,)" \
  "20 bad 400,20 good 201"

# --- header values without their surrounding whitespace (RFC 9110 §5.5: spaces and tabs
# around a field value are no part of it), so "k " and "k" are one idempotency key
raw_post() { # raw_post HEADER_LINES BODY: one request as given, prints the status line
  local head="POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
  head+="$1Content-Length: ${#2}\r\nConnection: close\r\n\r\n"
  raw_exchange 5 "$head$2" | head -1 | tr -d '\r'
}
check "key with trailing spaces: 201" eq "$(raw_post 'X-Idempotency-Key: ows-1   \r\n' "$(order_body "$USER_ID")")" \
  "HTTP/1.1 201 Created"
check "key after a tab, a tab after it: 201" eq \
  "$(raw_post 'X-Idempotency-Key:\tows-2\t\r\n' "$(order_body "$USER_ID")")" "HTTP/1.1 201 Created"
req POST /api/v1/orders "$(order_body "$USER_ID")" -H 'X-Idempotency-Key: ows-1'
check "the same key without the spaces replays that order" has_header Idempotent-Replayed true
check "X-User-Id with spaces around it: 201" eq \
  "$(raw_post "X-Idempotency-Key: ows-3\r\nX-User-Id:  $USER_ID \t\r\n" "$(order_body "$USER_ID")")" \
  "HTTP/1.1 201 Created"

# --- ownership (X-User-Id)
req POST /api/v1/orders "$(order_body "$USER_ID")" -H 'X-Idempotency-Key: own-1' -H "X-User-Id: $OTHER_USER"
check "create in another user's name: 403 FORBIDDEN" eq "$STATUS/$(json .error.code)" 403/FORBIDDEN
req POST /api/v1/orders "$(order_body "$USER_ID")" -H 'X-Idempotency-Key: own-1' -H 'X-User-Id: nope'
check "malformed X-User-Id: 400 INVALID_REQUEST" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
req POST /api/v1/orders "$(order_body "$USER_ID")" -H 'X-Idempotency-Key: own-1' -H "X-User-Id: ${USER_ID^^}"
check "create as oneself (any case): 201" eq "$STATUS" 201
OWN_ID=$(json .data.id)
FIRST_BODY=$BODY
req GET "/api/v1/orders/$OWN_ID" '' -H "X-User-Id: $OTHER_USER"
check "get of another user's order: 403 FORBIDDEN" eq "$STATUS/$(json .error.code)" 403/FORBIDDEN
req GET "/api/v1/orders/$OWN_ID" '' -H 'X-User-Id: nope'
check "get with a malformed X-User-Id: 400" eq "$STATUS/$(json .error.code)" 400/INVALID_REQUEST
req GET "/api/v1/orders/$OWN_ID" '' -H "X-User-Id: $USER_ID"
check "get of one's own order: 200" eq "$STATUS/$(json .data.id)" "200/$OWN_ID"
req GET "/api/v1/orders/$OWN_ID" ''
check "get without X-User-Id: 200" eq "$STATUS" 200
req GET "/api/v1/orders/$(cat /proc/sys/kernel/random/uuid)" '' -H "X-User-Id: $OTHER_USER"
check "get of an unknown order: 404" eq "$STATUS/$(json .error.code)" 404/ORDER_NOT_FOUND
req GET "/api/v1/orders?user_id=$USER_ID" '' -H "X-User-Id: $OTHER_USER"
check "list of another user: 403 FORBIDDEN" eq "$STATUS/$(json .error.code)" 403/FORBIDDEN
req GET "/api/v1/orders?user_id=$USER_ID" '' -H "X-User-Id: $USER_ID"
check "list of oneself: 200" eq "$STATUS" 200
req POST "/api/v1/orders/$OWN_ID/cancel" '{"reason":"USER_CANCEL"}' -H "X-User-Id: $OTHER_USER"
check "cancel of another user's order: 403 FORBIDDEN" eq "$STATUS/$(json .error.code)" 403/FORBIDDEN

# --- a replay answers the first body, whatever happened since
sleep 1.1 # the cancel's updated_at is then a later second than created_at
req POST "/api/v1/orders/$OWN_ID/cancel" '{"reason":"USER_CANCEL"}' -H "X-User-Id: $USER_ID"
check "cancel: 200 CANCELLED" eq "$STATUS/$(json .data.status)" 200/CANCELLED
req POST /api/v1/orders "$(order_body "$USER_ID")" -H 'X-Idempotency-Key: own-1'
check "replay after the cancel: 201" eq "$STATUS" 201
check "replay after the cancel: Idempotent-Replayed" has_header Idempotent-Replayed true
check "replay after the cancel: the first answer's body" eq "$BODY" "$FIRST_BODY"

# --- every answer above was JSON where it was an error
check "service log has no crash" eval '! grep -qi "terminate\|segmentation\|abort" "$E2E_TMP"/service-*.log'

finish
