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
# The Kafka of docker/ is the Kafka of ./dev.sh (tools/kafka/pom.xml, tools/apache_kafka.sh).
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' tools/kafka/pom.xml)
check "Kafka image apache/kafka:$KAFKA_VERSION" grep -q "image: apache/kafka:$KAFKA_VERSION" <<<"$RESOLVED"
check "no other Kafka image" test "$(grep -c 'image: apache/kafka:' <<<"$RESOLVED")" = \
  "$(grep -c "image: apache/kafka:$KAFKA_VERSION" <<<"$RESOLVED")"
MAX_BYTES=$(sed -n 's/^KAFKA_MAX_MESSAGE_BYTES=\${KAFKA_MAX_MESSAGE_BYTES:-\([0-9]*\)}$/\1/p' tools/apache_kafka.sh)
check "broker message.max.bytes $MAX_BYTES" grep -Eq "KAFKA_MESSAGE_MAX_BYTES: [\"']?$MAX_BYTES" <<<"$RESOLVED"
check "topics max.message.bytes $MAX_BYTES" grep -q "max.message.bytes=$MAX_BYTES" <<<"$RESOLVED"
check "no automatic topics" grep -Eq "KAFKA_AUTO_CREATE_TOPICS_ENABLE: [\"']?false" <<<"$RESOLVED"
check "a fixed CAF_NODE_PORT" grep -q "CAF_NODE_PORT: '4242'" <<<"$RESOLVED"
# Mutual TLS between the nodes (CONTRACT §7): a one-shot certs service, the CA and
# each node's own certificate and key.
check "service certs" grep -qw -- certs <<<"$SERVICES"
check "the certs service makes node certificates, one user per node (docker/certs.sh)" \
  grep -q 'command: &cert-specs \["/certs", "order-1:10001", "order-2:10002", "order-3:10003"\]' "$COMPOSE"
check "certs-renew renews them" grep -q 'certs.sh", "--loop"' "$COMPOSE"
check "CLUSTER_TLS_CA for the nodes" test "$(grep -c "CLUSTER_TLS_CA: /certs/ca.pem" <<<"$RESOLVED")" -ge 3
for n in 1 2 3; do
  check "order-$n: its certificate" grep -q "CLUSTER_TLS_CERT: /certs/order-$n.pem" <<<"$RESOLVED"
  check "order-$n: its key" grep -q "CLUSTER_TLS_KEY: /certs/order-$n.key" <<<"$RESOLVED"
done

# Issue 21: what reading the file against the image found.
for n in 1 2 3; do
  check "order-$n runs as its own user" grep -q "user: '\?1000$n:1000$n'\?$" <<<"$RESOLVED"
done
check "no curl health check (the image's is flashsale-order health)" \
  bash -c '! grep -q curl "$0"' "$COMPOSE"
check "saga-sim, migrate, certs, certs-renew: no inherited HTTP health check" \
  test "$(grep -c 'disable: true' "$COMPOSE")" -ge 4
check "nodes wait for the topics" test "$(grep -c -A1 '^      kafka-topics:$' <<<"$RESOLVED" |
  head -1)" -ge 3
check "kafka-topics stops at the first failure" grep -q 'set -e' <<<"$RESOLVED"
check "pg_isready over TCP" grep -q 'pg_isready -h 127.0.0.1' <<<"$RESOLVED"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
