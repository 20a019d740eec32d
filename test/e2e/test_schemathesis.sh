#!/usr/bin/env bash
# Property-based tests of the HTTP API (issue 12 item 7): Schemathesis (tools/
# schemathesis.sh, pinned from PyPI) generates requests from docs/openapi.yaml, valid and
# invalid, against the real binary, a real PostgreSQL and Kafka, and checks every answer
# against the spec: no 5xx, status codes, content types, headers and bodies as declared.
# A fixed seed and deterministic generation make a run repeatable; the example counts
# bound it (well under two minutes).
source "$(dirname "$0")/lib.sh"

SRC=${FLASHSALE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
ST=$SRC/tools/schemathesis.sh
SPEC=$SRC/docs/openapi.yaml
bash "$ST" fetch # once per machine; ./dev.sh test has done it before the suite

DB=$(fresh_database)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_service "$DB" "$PORT" ORDER_ROLES=http
wait_for 30 "readyz 200" ready

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance
CHECKS+=,response_headers_conformance,response_schema_conformance,negative_data_rejection
CHECKS+=,missing_required_header,unsupported_method

# st_run LOG [ARGS...]: one Schemathesis run; its exit status, its output in LOG.
st_run() {
  local log=$1
  shift
  (cd "$E2E_TMP" && timeout 150 bash "$ST" st run "$SPEC" --url "$BASE" --checks "$CHECKS" \
    --seed 20261201 --generation-deterministic --generation-database none --no-color \
    --workers 1 --request-timeout 10 --max-failures 20 "$@") >"$log" 2>&1
}

RC=0
st_run "$E2E_TMP/st.log" --max-examples 40 || RC=$?
if ((RC != 0)); then tail -n 200 "$E2E_TMP/st.log" >&2; fi
check "schemathesis: every answer conforms to docs/openapi.yaml (exit $RC)" eq "$RC" 0
TESTED=$(sed -n 's/.*API Operations: *\([0-9]*\) selected, *\([0-9]*\) tested.*/\2/p' "$E2E_TMP/st.log")
check "schemathesis tested all 8 operations (${TESTED:-none})" eq "${TESTED:-0}" 8

# Schemathesis' requests reached the service and most were answered by it (not only refused).
req GET /metrics ''
CREATED=$(grep -c '^http_requests_total{.*status="201"' <<<"$BODY" || true)
check "some creates were 201 (the hook makes total_amount match)" test "$CREATED" -ge 1
check "service log has no crash" eval '! grep -qi "terminate\|segmentation\|abort" "$E2E_TMP"/service-*.log'
finish
