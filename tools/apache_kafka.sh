#!/usr/bin/env bash
# apache_kafka.sh: Apache Kafka (KRaft: every node is broker and controller) from its
# Maven Central jars, on loopback, for ./dev.sh and the tests.
#
#   apache_kafka.sh fetch                  the jars into the cache (once; then offline)
#   apache_kafka.sh start DIR [NODES]      format and start NODES (1) nodes under DIR,
#                                          create the topics, print KAFKA_BROKERS=…
#   apache_kafka.sh stop DIR               stop every node started under DIR
#   apache_kafka.sh kill|term|pause|resume|restart DIR NODE
#                                          SIGKILL, SIGTERM (and wait), SIGSTOP, SIGCONT
#                                          one node; restart starts it again on its data
#   apache_kafka.sh brokers DIR            the bootstrap list of the nodes under DIR
#   apache_kafka.sh tool NAME [ARGS…]      one of Kafka's own command-line tools from the
#                                          same jars: kafka-topics, kafka-configs,
#                                          kafka-consumer-groups,
#                                          kafka-console-consumer, kafka-console-producer,
#                                          kafka-get-offsets, kafka-metadata-quorum,
#                                          kafka-dump-log (DumpLogSegments)
#
# Environment: KAFKA_HEAP (default -Xms128m -Xmx512m), FLASHSALE_CACHE (default
# ~/.cache/flashsale), KAFKA_PARTITIONS (8), KAFKA_MAX_MESSAGE_BYTES (1048576).
set -euo pipefail

KAFKA_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# dev.sh's helpers (ports, processes, packages); sourcing it defines functions only
# (and changes to the project root, so return to where the caller is).
KAFKA_CALLER_DIR=$(pwd)
# shellcheck source=../dev.sh
source "$KAFKA_SCRIPT_DIR/../dev.sh"
cd "$KAFKA_CALLER_DIR"

KAFKA_POM=$KAFKA_SCRIPT_DIR/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")
KAFKA_CACHE=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_CACHE/libs
KAFKA_HEAP=${KAFKA_HEAP:--Xms128m -Xmx512m}
# The topics of the contract (CONTRACT §5), with as many partitions as the embedded broker.
KAFKA_TOPICS=(order.v1.events inventory.v1.events payment.v1.events order.v1.dlq)
KAFKA_PARTITIONS=${KAFKA_PARTITIONS:-8}
# One limit for broker, topics and our producer (kafka/producer.hpp uses the same value).
KAFKA_MAX_MESSAGE_BYTES=${KAFKA_MAX_MESSAGE_BYTES:-1048576}

kafka_log() { echo "apache_kafka.sh: $*" >&2; }

java_ok() {
  command -v java >/dev/null || return 1
  local v
  v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [[ -n $v ]] && ((v >= 17))
}

# Java 17 and Maven from Debian when missing (a ready machine needs neither network nor root).
kafka_prereqs() {
  local missing=()
  java_ok || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  kafka_log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# The broker's jars, downloaded once into the cache; a later run touches no network.
kafka_fetch() {
  [[ -f $KAFKA_CACHE/complete ]] && return 0
  kafka_prereqs
  kafka_log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_CACHE (once, ~60 MB)"
  rm -rf "$KAFKA_LIBS.tmp"
  mkdir -p "$KAFKA_CACHE"
  mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_LIBS.tmp" >"$KAFKA_CACHE/mvn.log" 2>&1 || {
    tail -n 30 "$KAFKA_CACHE/mvn.log" >&2
    die "Maven could not fetch Apache Kafka $KAFKA_VERSION (log: $KAFKA_CACHE/mvn.log)"
  }
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  echo "$KAFKA_VERSION" >"$KAFKA_CACHE/complete"
}

# The java command line (heap from KAFKA_HEAP) for a main class and its arguments.
java_cmd() {
  local heap
  read -r -a heap <<<"$KAFKA_HEAP"
  JAVA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$KAFKA_SCRIPT_DIR/kafka/log4j2.properties"
    -cp "$KAFKA_LIBS/*" "$@")
}

kafka_java() {
  java_cmd "$@"
  "${JAVA_CMD[@]}"
}

# A tool's JVM needs far less than a broker's.
kafka_tool() {
  local name=$1 class
  shift
  case $name in
  kafka-topics) class=org.apache.kafka.tools.TopicCommand ;;
  kafka-configs) class=kafka.admin.ConfigCommand ;;
  kafka-consumer-groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  kafka-console-consumer) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  kafka-console-producer) class=org.apache.kafka.tools.ConsoleProducer ;;
  kafka-get-offsets) class=org.apache.kafka.tools.GetOffsetShell ;;
  kafka-metadata-quorum) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
  kafka-dump-log) class=kafka.tools.DumpLogSegments ;;
  *) die "unknown Kafka tool '$name'" ;;
  esac
  kafka_fetch
  KAFKA_HEAP="-Xms32m -Xmx256m" kafka_java -XX:TieredStopAtLevel=1 "$class" "$@"
}

# node_config DIR K N: server.properties of node K of N (ports chosen in cluster_start).
node_config() {
  local dir=$1 k=$2 n=$3 voters="" i rf=$3 isr=1
  ((rf > 3)) && rf=3
  ((rf >= 3)) && isr=2
  for ((i = 1; i <= n; i++)); do
    voters+="${voters:+,}$i@127.0.0.1:$(cat "$dir/node$i/controller.port")"
  done
  cat <<EOF
process.roles=broker,controller
node.id=$k
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(cat "$dir/node$k/broker.port"),CONTROLLER://127.0.0.1:$(cat "$dir/node$k/controller.port")
advertised.listeners=PLAINTEXT://127.0.0.1:$(cat "$dir/node$k/broker.port")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/node$k/data
num.partitions=$KAFKA_PARTITIONS
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=$KAFKA_PARTITIONS
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
auto.create.topics.enable=false
message.max.bytes=$KAFKA_MAX_MESSAGE_BYTES
replica.fetch.max.bytes=$KAFKA_MAX_MESSAGE_BYTES
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=67108864
EOF
}

node_start() {
  local dir=$1 k=$2
  java_cmd kafka.Kafka "$dir/node$k/server.properties"
  setsid nohup "${JAVA_CMD[@]}" >>"$dir/node$k/kafka.log" 2>&1 </dev/null &
  proc_id $! >"$dir/node$k/pid"
}

node_pid() { cut -d' ' -f1 "$1/node$2/pid"; }

node_alive() {
  local dir=$1 k=$2
  [[ -f $dir/node$k/pid ]] || return 1
  # shellcheck disable=SC2046
  same_proc $(cat "$dir/node$k/pid")
}

# Waits until node K answers metadata requests (kcat speaks the real protocol).
node_wait() {
  local dir=$1 k=$2 deadline=$((SECONDS + ${3:-90})) port
  port=$(cat "$dir/node$k/broker.port")
  until kcat -b "127.0.0.1:$port" -L -m 2 -t __nonexistent 2>/dev/null | grep -q "broker $k at"; do
    node_alive "$dir" "$k" || { tail -n 30 "$dir/node$k/kafka.log" >&2; die "Kafka node $k exited"; }
    ((SECONDS < deadline)) || die "Kafka node $k did not answer within ${3:-90} s"
    sleep 0.2
  done
}

cluster_brokers() {
  local dir=$1 k out=""
  for ((k = 1; k <= $(cat "$dir/nodes"); k++)); do
    out+="${out:+,}127.0.0.1:$(cat "$dir/node$k/broker.port")"
  done
  echo "$out"
}

cluster_start() {
  local dir=$1 n=${2:-1} k id rf=$2
  [[ $n =~ ^[1-9]$ ]] || die "NODES must be 1-9, got '$n'"
  ((rf > 3)) && rf=3
  kafka_fetch
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/nodes ]]; then
    for ((k = 1; k <= $(cat "$dir/nodes"); k++)); do
      node_alive "$dir" "$k" && die "Kafka node $k under $dir is still running (stop it first)"
    done
  fi
  echo "$n" >"$dir/nodes"
  # A kept cluster (./dev.sh run) keeps its ports while they are free.
  local f
  for ((k = 1; k <= n; k++)); do
    mkdir -p "$dir/node$k"
    for f in broker controller; do
      f=$dir/node$k/$f.port
      [[ -f $f ]] && port_free "$(cat "$f")" || free_port >"$f"
    done
  done
  # Ports are chosen at random: two equal ones would only show up as a bind error.
  [[ $(cat "$dir"/node*/*.port | sort | uniq -d) == "" ]] || {
    rm -f "$dir"/node*/*.port
    cluster_start "$dir" "$n"
    return
  }
  for ((k = 1; k <= n; k++)); do node_config "$dir" "$k" "$n" >"$dir/node$k/server.properties"; done
  if [[ ! -f $dir/cluster.id ]]; then
    id=$(KAFKA_HEAP="-Xmx64m" kafka_java kafka.tools.StorageTool random-uuid)
    local jobs=() j
    for ((k = 1; k <= n; k++)); do
      KAFKA_HEAP="-Xmx128m" kafka_java -XX:TieredStopAtLevel=1 kafka.tools.StorageTool format \
        -t "$id" -c "$dir/node$k/server.properties" >"$dir/node$k/format.log" 2>&1 &
      jobs+=($!)
    done
    for j in "${jobs[@]}"; do
      wait "$j" || die "formatting the Kafka storage failed (see $dir/node*/format.log)"
    done
    echo "$id" >"$dir/cluster.id"
  fi
  for ((k = 1; k <= n; k++)); do node_start "$dir" "$k"; done
  for ((k = 1; k <= n; k++)); do node_wait "$dir" "$k"; done
  local brokers topic
  jobs=()
  brokers=$(cluster_brokers "$dir")
  for topic in "${KAFKA_TOPICS[@]}"; do
    kafka_tool kafka-topics --bootstrap-server "$brokers" --create --if-not-exists \
      --topic "$topic" --partitions "$KAFKA_PARTITIONS" --replication-factor "$rf" \
      --config max.message.bytes="$KAFKA_MAX_MESSAGE_BYTES" >"$dir/topics-$topic.log" 2>&1 &
    jobs+=($!)
  done
  # Not a bare `wait`: that would wait for the nodes too.
  for j in "${jobs[@]}"; do
    wait "$j" || die "creating the topics failed (see $dir/topics-*.log)"
  done
  wait_topics "$brokers" || die "the topics have no leaders yet"
  echo "KAFKA_BROKERS=$brokers"
}

# Every partition of every topic has a leader: producers and consumers can start.
wait_topics() {
  local brokers=$1 deadline=$((SECONDS + 60)) meta topic ok
  while ((SECONDS < deadline)); do
    meta=$(kcat -b "$brokers" -L 2>/dev/null || true)
    ok=1
    for topic in "${KAFKA_TOPICS[@]}"; do
      [[ $(grep -c "^    partition .*leader [1-9]" <<<"$(sed -n "/topic \"$topic\"/,/^  topic/p" <<<"$meta")") -ge $KAFKA_PARTITIONS ]] || ok=0
    done
    ((ok)) && return 0
    sleep 0.2
  done
  return 1
}

# SIGTERM: a controlled shutdown; Kafka may take a few seconds to hand over leadership.
node_term() {
  local dir=$1 k=$2
  node_alive "$dir" "$k" || return 0
  kill -CONT "$(node_pid "$dir" "$k")" 2>/dev/null || true
  # shellcheck disable=SC2046
  stop_proc $(cat "$dir/node$k/pid") "kafka node $k"
}

cluster_stop() {
  local dir=$1 k
  [[ -f $dir/nodes ]] || return 0
  for ((k = 1; k <= $(cat "$dir/nodes"); k++)); do
    node_alive "$dir" "$k" || continue
    kill -CONT "$(node_pid "$dir" "$k")" 2>/dev/null || true
    kill -TERM "$(node_pid "$dir" "$k")" 2>/dev/null || true
  done
  for ((k = 1; k <= $(cat "$dir/nodes"); k++)); do node_term "$dir" "$k"; done
}

kafka_main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
  fetch) kafka_fetch ;;
  start) cluster_start "$@" ;;
  stop) cluster_stop "$1" ;;
  brokers) cluster_brokers "$1" ;;
  kill) kill -KILL "$(node_pid "$1" "$2")" ;;
  pause) kill -STOP "$(node_pid "$1" "$2")" ;;
  resume) kill -CONT "$(node_pid "$1" "$2")" ;;
  term) node_term "$1" "$2" ;;
  restart)
    node_alive "$1" "$2" && die "Kafka node $2 is still running"
    node_start "$1" "$2"
    node_wait "$1" "$2"
    ;;
  tool) kafka_tool "$@" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
  esac
}

kafka_main "$@"
