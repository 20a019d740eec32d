#!/usr/bin/env bash
# Property-based tests of the HTTP API (issue 12 item 7): Schemathesis (tools/
# schemathesis.sh, every package pinned, from PyPI) generates requests from
# docs/openapi.yaml, valid and invalid, and sends them to the real binary with a real
# PostgreSQL and Kafka behind it; every answer is checked against the spec: no 5xx,
# status codes, content types, headers and bodies as declared, invalid input refused,
# valid input taken, 405 with Allow for other methods (test/e2e/schemathesis.toml).
# A fixed seed makes a run repeatable, the example count bounds it (under two minutes);
# ST_SEED and ST_EXAMPLES explore further, e.g. ST_EXAMPLES=500 ST_SEED=$RANDOM.
source "$(dirname "$0")/lib.sh"

SRC=${FLASHSALE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
ST=$SRC/tools/schemathesis.sh
SPEC=$SRC/docs/openapi.yaml
STATUS= BODY=
bash "$ST" fetch # once per machine; ./dev.sh test has done it before the suite

# The spec is plain YAML with no key given twice (PyYAML, like Schemathesis, would keep
# the last one silently; X-User-Id once was).
DUPLICATES=$(bash "$ST" python - "$SPEC" <<'PY' 2>&1
import sys, yaml

class Strict(yaml.SafeLoader):
    pass

def mapping(loader, node):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            print(f"line {key_node.start_mark.line + 1}: {key} given twice")
        seen.add(key)
    return loader.construct_mapping(node)

Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
yaml.load(open(sys.argv[1], encoding="utf-8"), Loader=Strict)
PY
)
check "docs/openapi.yaml gives no key twice ($DUPLICATES)" eq "$DUPLICATES" ""

DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http
wait_for 30 "readyz 200" ready

RC=0
(cd "$E2E_TMP" && SCHEMATHESIS_HOOKS=$SRC/test/e2e/schemathesis_hooks.py timeout 170 \
  bash "$ST" st --config-file "$SRC/test/e2e/schemathesis.toml" run "$SPEC" --url "$BASE" \
  --seed "${ST_SEED:-20261201}" --max-examples "${ST_EXAMPLES:-40}" --no-color) \
  >"$E2E_TMP/st.log" 2>&1 || RC=$?
if ((RC != 0)); then
  tail -n 250 "$E2E_TMP/st.log" >&2
  ((RC == 124)) && echo "schemathesis did not finish within 170 s" >&2
fi
check "schemathesis: every answer conforms to docs/openapi.yaml (exit $RC)" eq "$RC" 0
TESTED=$(sed -n 's/^ *Tested: *\([0-9]*\).*/\1/p' "$E2E_TMP/st.log")
check "schemathesis tested all 8 operations (${TESTED:-none})" eq "${TESTED:-0}" 8
for phase in Examples Coverage Fuzzing Stateful; do
  check "schemathesis ran its $phase phase" grep -q "✅ $phase\$" "$E2E_TMP/st.log"
done
grep -E '^ +[0-9]+ generated' "$E2E_TMP/st.log" || true

# The requests reached the service and took every path of it, not only refusals: the
# hook makes generated creates valid, the stateful phase reads and cancels them.
req GET /metrics ''
answered() { grep -q "^http_requests_total{route=\"$1\",method=\"$2\",status=\"$3\"}" <<<"$BODY"; }
check "creates answered 201" answered /api/v1/orders POST 201
check "creates answered 400" answered /api/v1/orders POST 400
check "gets of an order answered 200" answered '/api/v1/orders/{id}' GET 200
check "gets of an order answered 404" answered '/api/v1/orders/{id}' GET 404
check "cancels answered 200" answered '/api/v1/orders/{id}/cancel' POST 200
check "lists answered 200" answered /api/v1/orders GET 200
check "other methods answered 405" answered /healthz PUT 405
# (readyz may have been 503 before the first probe: wait_for polled it.)
check "no order endpoint answered a 5xx" eval '! grep -q "route=\"/api.*status=\"5" <<<"$BODY"'
check "service log has no crash" eval '! grep -qi "terminate\|segmentation\|abort" "$E2E_TMP"/service-*.log'
finish
