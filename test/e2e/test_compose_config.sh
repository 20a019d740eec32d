#!/usr/bin/env bash
# docker/docker-compose.yaml is valid (Debian's docker-compose parses and resolves it
# offline; no Docker engine needed) and describes the deployment of issue 5: three
# order nodes with distinct NODE_IDs reachable by each other, the migration job,
# PostgreSQL, Kafka and the saga simulator.
set -euo pipefail
cd "$(dirname "$0")/../.."
PASSED=0 FAILED=0
check() {
  local what=$1
  shift
  if "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $what" >&2; fi
}

COMPOSE=docker/docker-compose.yaml
check "docker-compose config -q" docker-compose -f "$COMPOSE" config -q
RESOLVED=$(docker-compose -f "$COMPOSE" config 2>/dev/null)
SERVICES=$(docker-compose -f "$COMPOSE" config --services 2>/dev/null | sort | tr '\n' ' ')
for s in postgres kafka migrate order-1 order-2 order-3 saga-sim; do
  check "service $s" grep -qw -- "$s" <<<"$SERVICES"
done
for n in 1 2 3; do
  check "order-$n: NODE_ID" grep -q "NODE_ID: order-$n" <<<"$RESOLVED"
  check "order-$n: CLUSTER_HOST" grep -q "CLUSTER_HOST: order-$n" <<<"$RESOLVED"
done
check "a fixed CAF_NODE_PORT" grep -q "CAF_NODE_PORT: '4242'" <<<"$RESOLVED"
# Mutual TLS between the nodes (CONTRACT §7): a one-shot certs service, the CA and
# each node's own certificate and key.
check "service certs" grep -qw -- certs <<<"$SERVICES"
check "the certs service makes node certificates with openssl" \
  grep -q "cluster_certs.sh /certs order-1 order-2 order-3" "$COMPOSE"
check "CLUSTER_TLS_CA for the nodes" test "$(grep -c "CLUSTER_TLS_CA: /certs/ca.pem" <<<"$RESOLVED")" -ge 3
for n in 1 2 3; do
  check "order-$n: its certificate" grep -q "CLUSTER_TLS_CERT: /certs/order-$n.pem" <<<"$RESOLVED"
  check "order-$n: its key" grep -q "CLUSTER_TLS_KEY: /certs/order-$n.key" <<<"$RESOLVED"
done

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
