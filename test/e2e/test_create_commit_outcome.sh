#!/usr/bin/env bash
# A create is answered 503 only when its transaction is known not to have committed, and
# a create whose client has gone before its commit leaves no order (CONTRACT §3
# "Overload", issue 22 item 1). The slowness is real and inside PostgreSQL: a statement
# trigger on orders that sleeps after the INSERT and a deferred constraint trigger that
# sleeps during COMMIT, each shorter than the statement timeout (no single statement is
# long; the transaction is). The delays come from a table, set per case.
source "$(dirname "$0")/lib.sh"

DB=$(fresh_database)
sql "$DB" "
CREATE TABLE e2e_delay (after_insert_s float8 NOT NULL, at_commit_s float8 NOT NULL);
INSERT INTO e2e_delay VALUES (0, 0);
CREATE FUNCTION e2e_sleep_after_insert() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_sleep((SELECT after_insert_s FROM e2e_delay)); RETURN NULL; END \$\$;
CREATE FUNCTION e2e_sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_sleep((SELECT at_commit_s FROM e2e_delay)); RETURN NULL; END \$\$;
CREATE TRIGGER e2e_slow_insert AFTER INSERT ON orders
  FOR EACH STATEMENT EXECUTE FUNCTION e2e_sleep_after_insert();
CREATE CONSTRAINT TRIGGER e2e_slow_commit AFTER INSERT ON orders
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION e2e_sleep_at_commit();" >/dev/null

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# What matters here: the bridge's 5 s, a create's commit deadline 4 s after it arrives,
# a database call cut after DB_STATEMENT_TIMEOUT_MS + 1 s = 6.5 s (a second away from
# every delay below, so that a busy machine does not move a case into the next).
start_service "$DB" "$PORT" ORDER_ROLES=http DB_STATEMENT_TIMEOUT_MS=5500
wait_for 60 "service ready" ready

metric() { curl -sS "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'; }
delays() { sql "$DB" "UPDATE e2e_delay SET after_insert_s = $1, at_commit_s = $2" >/dev/null; }
# No transaction of the service that has written anything is still open: what is in
# orders now is final (a COMMIT still running after its answer would show here).
no_write_in_flight() {
  eq "$(sql "$DB" "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")" 0
}
orders_with_key() { sql "$DB" "SELECT count(*) FROM orders WHERE user_id = '$USER_ID' AND idempotency_key = '$1'"; }
events_with_key() {
  sql "$DB" "SELECT count(*) FROM outbox_events e JOIN orders o ON o.id = e.aggregate_id
    WHERE o.user_id = '$USER_ID' AND o.idempotency_key = '$1' AND e.event_type = 'ORDER_CREATED'"
}
# create KEY [curl args]: one create, STATUS/BODY/HEADERS set, then waits until no write
# of the service is in flight.
create() {
  local key=$1
  shift
  local started=$SECONDS
  rm -f "$E2E_TMP/body" "$E2E_TMP/headers" # a request cut short leaves none
  req POST /api/v1/orders "$(one_item_order "$USER_ID")" -H "X-Idempotency-Key: $key" "$@" || true
  echo "create $key: status ${STATUS:-none} after $((SECONDS - started)) s"
  wait_for 30 "the service's transactions ended" no_write_in_flight
}
# truthful KEY: a 201 has its order and ORDER_CREATED committed, a 503 (with
# Retry-After) has neither; nothing else is answered.
truthful() {
  local key=$1 orders events
  orders=$(orders_with_key "$key")
  events=$(events_with_key "$key")
  echo "  orders with key $key: $orders, ORDER_CREATED: $events"
  case $STATUS in
    201) eq "$orders/$events" 1/1 && eq "$(json .data.id)" "$(sql "$DB" "SELECT id FROM orders WHERE user_id = '$USER_ID' AND idempotency_key = '$key'")" ;;
    503) eq "$orders/$events" 0/0 && has_header Retry-After ;;
    *) false ;;
  esac
}
USER_ID=$(cat /proc/sys/kernel/random/uuid)

# 1. The issue's reproduction: 3 s after the INSERT, 2.5 s in COMMIT. The deadline (4 s)
#    has not passed when COMMIT starts, so the order commits at ~5.5 s, after the
#    bridge's 5 s: the answer must wait for the commit and be 201.
delays 3 2.5
create slow-commit --max-time 30
check "slow commit: the answer tells the truth" truthful slow-commit
check "slow commit: a commit begun before the deadline is answered 201" eq "$STATUS" 201

# 2. The deadline passes inside the transaction (4.5 s after the INSERT): the writer rolls
#    back before COMMIT and answers 503; nothing is committed.
WITHDRAWN_BEFORE=$(metric 'db_creates_withdrawn_total{reason="deadline",at="commit"}')
delays 4.5 0
create past-deadline --max-time 30
check "past the deadline: the answer tells the truth" truthful past-deadline
check "past the deadline: 503" eq "$STATUS" 503
check "past the deadline: counted" test "$(metric 'db_creates_withdrawn_total{reason="deadline",at="commit"}')" -gt "$WITHDRAWN_BEFORE"

# 3. The client gives up after 1 s and closes its connection while the INSERT's trigger
#    sleeps 3 s: the create is rolled back before COMMIT, no order is left.
GONE_BEFORE=$(metric 'db_creates_withdrawn_total{reason="client_gone",at="commit"}')
delays 3 0
create client-gone --max-time 1
check "client gone: curl gave up (no answer)" eq "$STATUS" 000
check "client gone: no order" eq "$(orders_with_key client-gone)" 0
check "client gone: no ORDER_CREATED" eq "$(events_with_key client-gone)" 0
check "client gone: counted" test "$(metric 'db_creates_withdrawn_total{reason="client_gone",at="commit"}')" -gt "$GONE_BEFORE"

# 4. COMMIT starts in time (3 s) but the deferred trigger holds it 4.5 s: the call is cut
#    at 6.5 s during COMMIT, whose outcome is then unknown. The writer finds it out (the
#    backend that ran it is ended, the key looked up on a fresh connection) and answers
#    what it found.
DOUBT_BEFORE=$(metric 'db_creates_in_doubt_total{outcome="not_committed"}')
DOUBT_BEFORE=$((DOUBT_BEFORE + $(metric 'db_creates_in_doubt_total{outcome="committed"}')))
delays 3 4.5
create commit-cut --max-time 30
check "COMMIT cut: the answer tells the truth" truthful commit-cut
doubt_counted() {
  local now
  now=$(($(metric 'db_creates_in_doubt_total{outcome="not_committed"}') + $(metric 'db_creates_in_doubt_total{outcome="committed"}')))
  ((now > DOUBT_BEFORE))
}
check "COMMIT cut: counted as in doubt" doubt_counted

# 5. Without the slowness the same keys behave as keys do: the withdrawn ones create
#    their order now, the committed one replays.
delays 0 0
for key in past-deadline client-gone commit-cut; do
  create "$key" --max-time 30
  check "retry of $key after a 503: created once" eq "$STATUS/$(orders_with_key "$key")" 201/1
done
create slow-commit --max-time 30
check "retry of the slow commit replays it" has_header Idempotent-Replayed true
check "still one order for the slow commit" eq "$(orders_with_key slow-commit)" 1
check "no crash" no_crash

finish
