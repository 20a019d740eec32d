# Helpers for the tests that need a real Apache Kafka (test_kafka_*.sh), sourced after
# lib.sh and saga_lib.sh: clusters of their own from tools/apache_kafka.sh (stopped at
# exit, their logs shown when a check failed), whole topics read with kcat, partition
# metadata and Kafka's own tools.

KAFKA_CTL=${KAFKA_CTL:-${FLASHSALE_SOURCE_DIR:?FLASHSALE_SOURCE_DIR must name the source tree}/tools/apache_kafka.sh}
OWN_CLUSTERS=()

kafka_lib_cleanup() {
  local status=$? dir
  # The services first: a service whose broker vanished only logs about it.
  stop_pids "${E2E_PIDS[@]}"
  if ((status != 0 || E2E_FAILED != 0)); then
    for dir in "${OWN_CLUSTERS[@]}"; do tail -n 20 "$dir"/node*/kafka.log >&2 2>/dev/null || true; done
    tail -n 30 "$E2E_TMP"/service-*.log >&2 2>/dev/null || true
  fi
  for dir in "${OWN_CLUSTERS[@]}"; do "$KAFKA_CTL" stop "$dir" >/dev/null 2>&1 || true; done
  e2e_cleanup
  exit "$status"
}
trap kafka_lib_cleanup EXIT

# own_cluster NODES: a cluster of NODES nodes of this test alone (the topics of the
# contract created); sets CLUSTER_DIR and KAFKA_BROKERS, which start_service and kcat use.
own_cluster() {
  CLUSTER_DIR=$E2E_TMP/kafka-${#OWN_CLUSTERS[@]}
  OWN_CLUSTERS+=("$CLUSTER_DIR")
  local t0=$SECONDS
  KAFKA_BROKERS=$("$KAFKA_CTL" start "$CLUSTER_DIR" "$1" | sed -n 's/^KAFKA_BROKERS=//p')
  [[ -n $KAFKA_BROKERS ]] || { echo "Kafka cluster of $1 did not start" >&2; return 1; }
  echo "own Kafka cluster of $1 node(s) on $KAFKA_BROKERS in $((SECONDS - t0)) s"
}

# topic_events TOPIC: every message from the beginning as "event_type order_id event_id
# partition offset header" (envelope members, header event_type; - when absent). One
# line per message: a value that is no JSON object shows as "- - -".
topic_events() {
  kcat -C -q -b "$KAFKA_BROKERS" -t "$1" -o beginning -e \
    -f '{"p":%p,"o":%o,"h":"%h"}\t%s\n' 2>/dev/null |
    jq -rR 'split("\t") as [$m, $v] | ($m | fromjson) as $m
      | (($v // "") | try fromjson catch {}) as $e | ($e | if type == "object" then . else {} end) as $e
      | [$e.event_type // "-", ($e.payload | objects | .order_id) // "-", $e.event_id // "-",
         $m.p, $m.o, ([$m.h | split(",")[] | select(startswith("event_type="))][0] // ""
                      | sub("^event_type="; "") | if . == "" then "-" else . end)]
      | map(tostring) | join(" ")'
}

# partition_lines: "topic partition leader isrs" of the contract's topics, from metadata.
partition_lines() {
  kcat -b "$KAFKA_BROKERS" -L 2>/dev/null | awk '
    /^  topic "/ { t = $2; gsub(/"/, "", t) }
    /^    partition / && t !~ /^__/ {
      p = $2; sub(/,/, "", p); l = $4; sub(/,/, "", l)
      isr = "-"; if (match($0, /isrs: [0-9,]+/)) isr = substr($0, RSTART + 6, RLENGTH - 6); sub(/,$/, "", isr)
      print t, p, l, isr }'
}
broker_count() { kcat -b "$KAFKA_BROKERS" -L -t __none 2>/dev/null | sed -n 's/^ \([0-9]*\) brokers:$/\1/p'; }
# Every partition of the contract's topics has N replicas in sync.
isr_is() {
  local lines
  lines=$(partition_lines)
  [[ -n $lines ]] && awk -v n="$1" '{ if (split($4, a, ",") != n) bad = 1 } END { exit bad }' <<<"$lines"
}
# No partition is led by node K (and every one has a leader).
none_led_by() {
  local lines
  lines=$(partition_lines)
  [[ -n $lines ]] && awk -v k="$1" '$3 == k || $3 == -1 { bad = 1 } END { exit bad }' <<<"$lines"
}
