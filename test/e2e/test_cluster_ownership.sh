#!/usr/bin/env bash
# One owner per order, decided by Kafka's consumer group and fenced in PostgreSQL
# (CONTRACT §7, DESIGN.md "Many nodes"). Three Apache Kafka brokers of this test, three
# service nodes (mutual TLS between them), a create load through every node and the saga
# simulator; then, one after another: a SIGSTOP shorter than the session timeout (no
# shard moves), a SIGSTOP past it and SIGCONT (the woken node's late writes are refused
# by the database and counted), a SIGKILL (the others take its shards within the session
# timeout + 5 s), a fourth node that joins and leaves (only its shards move), and a
# rolling restart within the session timeout (no shard changes hands). After each: every
# shard owned by a running node, the saga lag back to 0, no saga event forwarded, and an
# audit trigger in the test database shows that every order write carried the epoch its
# shard had at that moment. At the end: no 201 lost, every order's events valid.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/saga_lib.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/cluster_tls_lib.sh"

own_cluster 3
DB=$(fresh_database)
SHARDS=8 # tools/apache_kafka.sh creates 8 partitions per topic
# The audit: every insert and update of an order, with its shard's owner at that moment.
sql "$DB" "
CREATE TABLE audit_writes (order_id uuid, shard int, epoch bigint, owner_epoch bigint,
                           owner text, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION audit_order_write() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO audit_writes (order_id, shard, epoch, owner_epoch, owner)
  SELECT NEW.id, NEW.shard, NEW.epoch, s.epoch, s.node_id
  FROM (SELECT 1) one LEFT JOIN shard_owners s ON s.shard = NEW.shard;
  RETURN NEW;
END \$\$;
CREATE TRIGGER audit_order_write AFTER INSERT OR UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION audit_order_write();" >/dev/null

CERTS=$E2E_TMP/certs
make_certs "$CERTS" node-1 node-2 node-3 node-4
SESSION_MS=6000
NODE_ENV=(KAFKA_GROUP_ID="e2e-ownership-$$" KAFKA_SESSION_TIMEOUT_MS=$SESSION_MS
  OUTBOX_RELAYS=1 ORDER_TTL_CREATED_S=120 ORDER_TTL_RESERVED_S=120)
declare -A PORT PID
start_node() { # N [VAR=value ...]: node-N (static membership), or a generated id for N=4
  local n=$1 id
  shift
  PORT[$n]=${PORT[$n]:-$(free_port)}
  id=(NODE_ID="node-$n")
  [[ $n == 4 ]] && id=() # dynamic membership: it leaves the group when it stops
  # shellcheck disable=SC2046
  start_service "$DB" "${PORT[$n]}" "${id[@]}" "${NODE_ENV[@]}" $(tls_env "$CERTS" "node-$n") "$@"
  PID[$n]=$SERVICE_PID
}
on() { BASE="http://127.0.0.1:${PORT[$1]}"; }
node_metric() { (on "$1" && metric "$2"); }
RUNNING=(1 2 3)
sum_metric() { # METRIC: over the running nodes
  local n sum=0
  for n in "${RUNNING[@]}"; do sum=$((sum + $(node_metric "$n" "$1"))); done
  echo "$sum"
}
owners() { sql "$DB" "SELECT shard || ':' || node_id FROM shard_owners ORDER BY shard"; }
owner_epochs() { sql "$DB" "SELECT shard || ':' || node_id || ':' || epoch FROM shard_owners ORDER BY shard"; }
owned_by() { sql "$DB" "SELECT count(*) FROM shard_owners WHERE node_id = '$1'"; }
# Every shard acquired, and the running nodes together own all of them now.
all_active() {
  [[ $(sql "$DB" "SELECT count(*) FROM shard_owners") == "$SHARDS" ]] &&
    [[ $(sum_metric cluster_shards_owned) == "$SHARDS" ]]
}
lag_zero() { [[ $(sum_metric saga_consumer_lag) == 0 ]]; }
stale_writes() { sql "$DB" "SELECT count(*) FROM audit_writes WHERE epoch IS DISTINCT FROM owner_epoch"; }
FORWARDED_EVENTS='cluster_forwarded_total{command="event"}'
FENCED='cluster_fenced_writes_total{kind="create"}'
after() { # LABEL: the checks after every step
  check "$1: every shard owned by a running node" wait_for 45 "$1: $SHARDS shards active" all_active
  check "$1: saga lag back to 0" wait_for 60 "$1: lag 0" lag_zero
  check "$1: no saga event forwarded" eq "$(sum_metric "$FORWARDED_EVENTS")" 0
  check "$1: every order write carried its shard's current epoch" eq "$(stale_writes)" 0
}

for n in 1 2 3; do start_node "$n"; done
for n in 1 2 3; do
  on "$n"
  check "node-$n ready" wait_for 60 "node-$n ready" ready
done
env KAFKA_BROKERS="$KAFKA_BROKERS" SIM_GROUP_ID="e2e-ownership-sim-$$" SIM_DECLINE_RATE=0.1 \
  SIM_NO_ANSWER_RATE=0 SIM_INTENT_DELAY_MS=0 SIM_PAYMENT_DELAY_MS=0 \
  "$FLASHSALE_TOOLS_DIR/flashsale-saga-sim" >"$E2E_TMP/saga-sim.log" 2>&1 &
E2E_PIDS+=($!)
after "start"
check "each node owns some shards" eval '(($(owned_by node-1) > 0 && $(owned_by node-2) > 0 && $(owned_by node-3) > 0))'

# --- routing: a create lands in a shard of the node that took it; any node reads any
# order (from PostgreSQL when not its own); a cancel through a non-owner goes to the owner
on 1
ORDER=$(create_order "$(uuid)" "route-1")
owner_of() { sql "$DB" "SELECT s.node_id FROM orders o JOIN shard_owners s ON s.shard = o.shard WHERE o.id = '$1'"; }
check "a create through node 1 is in a shard node 1 owns" eq "$(owner_of "$ORDER")" node-1
read_via() { on "$1" && req GET "/api/v1/orders/$2" '' && [[ $STATUS/$(json .data.id) == "200/$2" ]]; }
check "node 2 reads node 1's order" read_via 2 "$ORDER"
check "node 3 reads node 1's order" read_via 3 "$ORDER"
# Node 2 must know the owner (shard_owners, read every heartbeat) and be connected to it;
# until then a cancel is 503 with Retry-After, which a client retries (CONTRACT §7).
peers_connected() { for n in 1 2 3; do [[ $(node_metric "$n" cluster_nodes_live) == 3 ]] || return 1; done; }
check "the nodes are connected to each other" wait_for 30 "3 live nodes on every node" peers_connected
cancel_via() { on "$1" && req POST "/api/v1/orders/$2/cancel" '{"reason":"USER_CANCEL"}' &&
  [[ $STATUS/$(json .data.status) == 200/CANCELLED ]]; }
check "a cancel through node 2 is applied by the owner" wait_for 15 "cancel through node 2" cancel_via 2 "$ORDER"
check "node 2 forwarded it" test "$(node_metric 2 'cluster_forwarded_total{command="cancel"}')" -ge 1

# --- the load: creates through nodes 1-3 in turn, until told to stop ------------------
LOAD=$E2E_TMP/load
mkdir -p "$LOAD"
create_via() { # N KEY: one create through node N, "<status> <order id or ->" appended to OUT
  local body
  body=$(curl -s --max-time 60 -X POST -H 'Content-Type: application/json' -H "X-Idempotency-Key: $2" \
    --data-binary '{"user_id":"'"$(uuid)"'","currency":"EUR","total_amount":25.00,"items":[{"sku_id":"sku-1","quantity":2,"price":12.50}]}' \
    -w '\n%{http_code}' "http://127.0.0.1:${PORT[$1]}/api/v1/orders" 2>/dev/null) || true
  echo "$(tail -n 1 <<<"$body") $(head -n 1 <<<"$body" | jq -r '.data.id // "-"' 2>/dev/null) $2"
}
worker() {
  local w=$1 i=0 n
  while [[ ! -e $LOAD/stop ]]; do
    i=$((i + 1))
    for n in 1 2 3; do [[ -e $LOAD/stopped-$n ]] || create_via "$n" "load-$w-$i-$n" >>"$LOAD/out-$w"; done
    sleep 0.2
  done
}
worker 1 &
LOAD_PID=$!
E2E_PIDS+=($!)
created() { cat "$LOAD"/out-* 2>/dev/null | grep -c '^201 ' || true; }
check "the load runs" wait_for 30 "30 creates" eval '(($(created) >= 30))'

# --- a pause shorter than the session timeout: nothing moves ----------------------------
BEFORE=$(owner_epochs)
touch "$LOAD/stopped-1"
kill -STOP "${PID[1]}"
sleep 2
kill -CONT "${PID[1]}"
rm -f "$LOAD/stopped-1"
sleep 3
check "a 2 s pause moves no shard and takes no epoch" eq "$(owner_epochs)" "$BEFORE"
after "short pause"

# --- a pause past the session timeout: the others take its shards, its late writes are
# refused by the database and counted ----------------------------------------------------
OWNED_2=$(sql "$DB" "SELECT string_agg(shard::text, ',' ORDER BY shard) FROM shard_owners WHERE node_id = 'node-2'")
touch "$LOAD/stopped-2"
kill -STOP "${PID[2]}"
STOPPED_AT=$SECONDS
# Requests that reach node 2 while it sleeps: it handles them when it wakes up.
for i in $(seq 20); do create_via 2 "late-$i" >>"$LOAD/late" & done
taken_over() { [[ $(owned_by node-2) == 0 ]]; }
check "the others take node 2's shards ($OWNED_2)" wait_for 30 "node-2 owns nothing" taken_over
TAKEOVER_S=$((SECONDS - STOPPED_AT))
kill -CONT "${PID[2]}"
rm -f "$LOAD/stopped-2"
wait_late() { [[ $(wc -l <"$LOAD/late") == 20 ]]; }
check "every late request answered" wait_for 60 "20 late answers" wait_late
check "late creates: 201 or 503, nothing else" eq "$(grep -cvE '^(201|503) ' "$LOAD/late")" 0
FENCED_2=$(node_metric 2 "$FENCED")
echo "node 2 paused ${TAKEOVER_S}s until its shards moved; woken: $FENCED_2 creates refused as fenced; late: $(cut -d' ' -f1 "$LOAD/late" | sort | uniq -c | tr '\n' ' ')"
check "the woken node's late writes were refused by the database and counted" test "$FENCED_2" -ge 1
check "its refusals are in its log" grep -q "write refused: another node owns the order's shard now" "$E2E_TMP/service-${PORT[2]}.log"
for key in $(awk '$1 == 503 { print $3 }' "$LOAD/late"); do
  [[ $(sql "$DB" "SELECT count(*) FROM orders WHERE idempotency_key = '$key'") == 0 ]] || echo "503 but stored: $key"
done >"$LOAD/late-503-stored"
check "no late create answered 503 was stored" eq "$(wc -l <"$LOAD/late-503-stored")" 0
after "long pause"

# --- SIGKILL: the others take its shards within the session timeout + 5 s ---------------
touch "$LOAD/stopped-3"
kill -KILL "${PID[3]}"
KILLED_AT=$SECONDS
RUNNING=(1 2)
gone_3() { [[ $(owned_by node-3) == 0 ]] && all_active; }
check "the survivors take node 3's shards" wait_for 40 "node-3 owns nothing" gone_3
KILL_S=$((SECONDS - KILLED_AT))
check "within the session timeout + 5 s ($KILL_S s)" test "$KILL_S" -le $((SESSION_MS / 1000 + 5))
start_node 3
RUNNING=(1 2 3)
on 3
check "node 3 back" wait_for 60 "node-3 ready" ready
rm -f "$LOAD/stopped-3"
after "SIGKILL"

# --- a fourth node joins and leaves: only its shards move -------------------------------
BEFORE=$(owners)
start_node 4
RUNNING=(1 2 3 4)
on 4
check "node 4 ready" wait_for 60 "node-4 ready" ready
has_shards_4() { [[ $(node_metric 4 cluster_shards_owned) -ge 1 ]] && all_active; }
check "node 4 takes shards" wait_for 45 "node-4 owns a shard" has_shards_4
ID_4=$(sql "$DB" "SELECT node_id FROM shard_owners WHERE node_id NOT LIKE 'node-%' LIMIT 1")
MOVED=$(diff <(echo "$BEFORE") <(owners) | grep -c '^>' || true)
TO_4=$(owned_by "$ID_4")
echo "join: $MOVED of $SHARDS shards moved, $TO_4 to the new node"
check "on a join only the new node's shards move" eq "$MOVED" "$TO_4"
check "about 1/N of them" test "$MOVED" -le $((SHARDS / 4 + 1))
after "join"
BEFORE=$(owners)
kill -TERM "${PID[4]}"
wait "${PID[4]}" 2>/dev/null || true
RUNNING=(1 2 3)
gone_4() { [[ $(owned_by "$ID_4") == 0 ]] && all_active; }
check "node 4's shards go back" wait_for 45 "the new node owns nothing" gone_4
MOVED=$(diff <(echo "$BEFORE") <(owners) | grep -c '^>' || true)
check "on a leave only its shards move" eq "$MOVED" "$TO_4"
after "leave"

# --- a rolling restart within the session timeout: no shard changes hands ---------------
BEFORE=$(owners)
for n in 1 2 3; do
  kill -TERM "${PID[$n]}"
  wait "${PID[$n]}" 2>/dev/null || true
  start_node "$n"
  on "$n"
  check "node $n restarted" wait_for 60 "node-$n ready" ready
done
after "rolling restart"
check "a restart within the session timeout moves no shard" eq "$(owners)" "$BEFORE"

# --- the end: no 201 lost, every order's events valid ----------------------------------
touch "$LOAD/stop"
wait "$LOAD_PID" 2>/dev/null || true
cat "$LOAD"/out-* "$LOAD/late" | awk '$1 == 201 { print $2 }' | sort -u >"$LOAD/acked"
sql "$DB" "SELECT id FROM orders" | sort -u >"$LOAD/stored"
echo "load: $(wc -l <"$LOAD/acked") orders answered 201"
check "every 201 order is in the database" eq "$(comm -23 "$LOAD/acked" "$LOAD/stored" | wc -l)" 0
check "every order has exactly one ORDER_CREATED" eq "$(sql "$DB" "SELECT count(*) FROM orders o
  WHERE (SELECT count(*) FROM outbox_events e WHERE e.aggregate_id = o.id AND e.event_type = 'ORDER_CREATED') <> 1")" 0
check "no event type twice for one order (no transition applied twice)" eq "$(sql "$DB" "SELECT count(*) FROM
  (SELECT aggregate_id, event_type FROM outbox_events GROUP BY 1, 2 HAVING count(*) > 1) d")" 0
check "ORDER_CREATED first for every order" eq "$(sql "$DB" "SELECT count(*) FROM outbox_events e
  JOIN outbox_events c ON c.aggregate_id = e.aggregate_id AND c.event_type = 'ORDER_CREATED'
  WHERE e.event_type <> 'ORDER_CREATED' AND e.seq < c.seq")" 0
check "the saga moved orders on (some PAID)" test "$(sql "$DB" "SELECT count(*) FROM orders WHERE status = 'PAID'")" -ge 1
check "writes were audited" test "$(sql "$DB" "SELECT count(*) FROM audit_writes")" -ge 100
check "no process crashed" no_crash
finish
