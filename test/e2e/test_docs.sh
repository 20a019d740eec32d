#!/usr/bin/env bash
# The project documents itself (issue 9, point 7) and the documents stay true: what the
# code defines — error codes and their statuses, statuses, reasons, events, topics, DLQ
# headers, Order JSON members, routes, configuration variables — appears in docs/API.md,
# docs/openapi.yaml and README.md, and nothing points outside the repository
# (../shared). Needs no service, database or broker: reads the source tree only.
set -euo pipefail
cd "${FLASHSALE_SOURCE_DIR:-$(dirname "$0")/../..}"
PASSED=0 FAILED=0
check() {
  local what=$1
  shift
  if "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $what" >&2; fi
}
# At least `min` names were found in the code: a broken extraction must not pass quietly.
found() {
  local what=$1 min=$2 n
  shift 2
  n=$#
  check "$what: found $n in the code, expected at least $min" test "$n" -ge "$min"
}
in_file() { grep -qF -- "$2" "$1"; }
word_in() { grep -qw -- "$2" "$1"; }

API=docs/API.md
OPENAPI=docs/openapi.yaml
README=README.md
check "$API exists" test -s "$API"

# --- references that leave the repository -----------------------------------------------
for f in "$README" docs/*.md "$OPENAPI"; do
  check "$f points at ../shared" bash -c "! grep -n '\.\./shared' '$f'"
done
check "$API names CONTRACT.md" bash -c "! grep -n 'CONTRACT' '$API'"
check "README links docs/API.md" in_file "$README" "](docs/API.md)"

# --- error codes: messages/api_error.cpp {"CODE", status} --------------------------------
mapfile -t ERRORS < <(grep -oE '\{"[A-Z_]+", [0-9]{3}\}' messages/api_error.cpp | tr -d '{}",' | sort -u)
found "error codes" 11 "${ERRORS[@]}"
for e in "${ERRORS[@]}"; do
  read -r code status <<<"$e"
  check "$API: error table row for $code with status $status" \
    grep -qE "^\| \`$code\` \| $status \|" "$API"
  check "$OPENAPI: $code" word_in "$OPENAPI" "$code"
  check "README: $code" word_in "$README" "$code"
done

# --- configuration: every variable app/config.cpp reads ---------------------------------
mapfile -t VARS < <(grep -oE '"[A-Z][A-Z0-9]*_[A-Z0-9_]+"' app/config.cpp | tr -d '"' | sort -u)
found "configuration variables" 20 "${VARS[@]}"
for v in "${VARS[@]}"; do
  check "$API: variable $v" in_file "$API" "\`$v\`"
  check "README: variable $v" in_file "$README" "\`$v\`"
done

# --- statuses, reasons, event types (out and in) ----------------------------------------
# UNKNOWN is to_string's answer for a value outside the enum, never sent anywhere.
mapfile -t NAMES < <(grep -ohE '"[A-Z][A-Z0-9_]{2,}"' messages/order_status.cpp messages/events.cpp \
  messages/create_order.cpp actors/order/*.cpp | tr -d '"' | grep -vx UNKNOWN | sort -u)
found "statuses, reasons and event types" 20 "${NAMES[@]}"
for n in "${NAMES[@]}"; do
  check "$API: $n" in_file "$API" "\`$n\`"
done
mapfile -t STATUSES < <(grep -oE '\{order_status::[a-z_]+, "[A-Z_]+"\}' messages/order_status.cpp \
  | grep -oE '"[A-Z_]+"' | tr -d '"')
found "statuses" 6 "${STATUSES[@]}"
for s in "${STATUSES[@]}"; do
  check "$OPENAPI: status $s" word_in "$OPENAPI" "$s"
  check "$API: state machine row from or to $s" grep -qE "^\| (\`[A-Z_]+\` \| )?\`$s\` \| " "$API"
done

# --- Kafka: topics, headers, envelope and payload members --------------------------------
mapfile -t TOPICS < <(grep -oE '"[a-z]+\.v[0-9]+\.[a-z]+"' messages/events.hpp | tr -d '"' | sort -u)
found "topics" 4 "${TOPICS[@]}"
for t in "${TOPICS[@]}"; do check "$API: topic $t" in_file "$API" "\`$t\`"; done
# The DLQ copy's headers, wherever the consumer code lives (actors/, kafka/).
mapfile -t HEADERS < <(grep -rohE --include='*.cpp' 'headers\.(push_back|emplace_back)\(\{?"[a-z_]+"' \
  actors $(test -d kafka && echo kafka) | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
found "DLQ headers" 4 "${HEADERS[@]}"
for h in "${HEADERS[@]}" event_type; do check "$API: Kafka header $h" in_file "$API" "\`$h\`"; done
mapfile -t MEMBERS < <(grep -ohE 'Key\("[a-z_]+"\)|put(_money)?\(w, "[a-z_]+"' messages/events.cpp \
  messages/order.cpp | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
found "JSON members" 20 "${MEMBERS[@]}"
for m in "${MEMBERS[@]}"; do check "$API: JSON member $m" word_in "$API" "$m"; done

# --- docs/asyncapi.yaml: every topic, event type and Kafka header -------------------------
ASYNCAPI=docs/asyncapi.yaml
check "$ASYNCAPI exists" test -s "$ASYNCAPI"
for t in "${TOPICS[@]}"; do check "$ASYNCAPI: channel address $t" grep -qE "^    address: $t$" "$ASYNCAPI"; done
# Outgoing types (to_string of order_event) and incoming ones (the decoder's table).
mapfile -t EVENT_TYPES < <( (grep -oE 'return "ORDER_[A-Z_]+"' messages/order_status.cpp
  grep -oE '\{"(INVENTORY|PAYMENT)_[A-Z_]+"' messages/events.cpp
  grep -oE '"INVENTORY_RELEASED"' messages/events.cpp) | grep -oE '[A-Z_]{5,}' | sort -u)
found "event types" 11 "${EVENT_TYPES[@]}"
for e in "${EVENT_TYPES[@]}"; do
  check "$ASYNCAPI: message $e" grep -qE "^      name: $e$" "$ASYNCAPI"
  check "$ASYNCAPI: channel message $e" grep -qE "^      $e:$" "$ASYNCAPI"
done
# Headers: the DLQ's (code), ours on every produced message (CONTRACT §5), the replay's.
for h in "${HEADERS[@]}" event_type ce_specversion ce_id ce_type ce_source ce_time ce_subject \
  content-type traceparent; do
  check "$ASYNCAPI: header $h" grep -qE "^        $h:$" "$ASYNCAPI"
done
mapfile -t REDRIVE_HEADERS < <(grep -ohE 'constexpr const char\* [a-z_]+_header = "[a-z_]+"' kafka/*.hpp kafka/*.cpp |
  grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
found "headers named in kafka/" 2 "${REDRIVE_HEADERS[@]}"
for h in "${REDRIVE_HEADERS[@]}"; do
  check "$ASYNCAPI: header $h" grep -qE "^        $h:$" "$ASYNCAPI"
  check "$API: Kafka header $h" in_file "$API" "\`$h\`"
done
check "$API links asyncapi.yaml" in_file "$API" "](asyncapi.yaml)"

# --- routes ---------------------------------------------------------------------------------
mapfile -t ROUTES < <(grep -oE '"/[a-z0-9/{}]+"' http/routes.cpp | tr -d '"' | sort -u)
found "routes" 6 "${ROUTES[@]}"
for r in "${ROUTES[@]}"; do
  check "$API: route $r" in_file "$API" "$r"
  check "$OPENAPI: path $r" grep -qE "^  $r:$" "$OPENAPI"
done

# --- openapi.yaml: parses, and says what docs/API.md says --------------------------------
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
check "a python3 with PyYAML (Debian: python3-yaml, a dependency of docker-compose)" test -n "$PY"
if [[ -n $PY ]]; then
  check "$OPENAPI: structure" "$PY" - "$OPENAPI" "${ERRORS[@]%% *}" <<'EOF'
import sys, yaml
path, codes = sys.argv[1], set(sys.argv[2:])
doc = yaml.safe_load(open(path, encoding="utf-8"))
problems = []
try:  # a full validation where the validator is installed (PyPI openapi-spec-validator)
    from openapi_spec_validator import validate
    validate(doc)
except ImportError:
    pass
except Exception as e:
    problems.append(f"not a valid OpenAPI document: {e}")

def node_ref(ref):
    assert ref.startswith("#/"), ref
    return ref[2:].split("/")
def deref(node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        target = doc
        for part in node_ref(node["$ref"]):
            target = target[part]
        node, seen = target, seen + 1
    return node

enum = set(doc["components"]["schemas"]["ErrorCode"]["enum"])
if enum != codes:
    problems.append(f"ErrorCode enum {sorted(enum)} != codes in messages/api_error.cpp {sorted(codes)}")
for route, ops in doc["paths"].items():
    for method, op in ops.items():
        name = f"{method.upper()} {route}"
        responses = op.get("responses", {})
        if "413" not in responses:
            problems.append(f"{name}: no 413")
        if not route.startswith("/api/v1/orders"):
            continue
        params = [deref(p) for p in op.get("parameters", [])]
        if not any(p.get("in") == "header" and p.get("name") == "X-User-Id" and not p.get("required", False)
                   for p in params):
            problems.append(f"{name}: no optional X-User-Id header")
        for status in ("400", "403", "413", "503"):
            if status not in responses:
                problems.append(f"{name}: no {status}")
        if "503" in responses and "Retry-After" not in (deref(responses["503"]).get("headers") or {}):
            problems.append(f"{name}: 503 without Retry-After")
        if method == "post" and not route.endswith("/cancel"):
            headers = deref(responses.get("201") or {}).get("headers") or {}
            for h in ("Location", "Idempotent-Replayed"):
                if h not in headers:
                    problems.append(f"{name}: 201 without {h}")
order = set(doc["components"]["schemas"]["Order"]["properties"])
want = {"id", "user_id", "status", "currency", "total_amount", "items", "created_at",
        "updated_at", "expired_at", "reason"}
if order != want:
    problems.append(f"Order properties {sorted(order)} != {sorted(want)}")
for p in problems:
    print("  " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
fi

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
