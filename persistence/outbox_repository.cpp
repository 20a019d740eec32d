#include "persistence/outbox_repository.hpp"

#include "persistence/order_repository.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <unordered_set>

namespace flashsale::persistence {

namespace {

// The claim. An order's pending rows are claimed as a whole run, from its oldest
// pending row (the head) on, so an order with several events drains in one batch
// instead of one batch per event. The claim is a lease (claimed_until, claim_id),
// committed before anything is produced: no transaction is open while the relay waits
// for Kafka, however long the brokers are away.
//
// Why every order's events still reach Kafka in commit (seq) order, with any number
// of relays in any number of processes:
//
// 0. Assumption: one order's rows get seq in commit order. The order actor is the
//    single writer of its order and persists an event only after the previous one
//    committed. During a handover between nodes (two writers) the guarded UPDATE of the
//    order row precedes the outbox INSERT in the same transaction, so the second writer
//    waits on that row lock and draws its seq after the first committed. (An event
//    written without a status change takes only FOR SHARE there, which two writers can
//    hold at once; that corner is not covered.)
// 1. Heads only. A claim C takes rows of order X only through X's head h: h is PENDING,
//    due and not leased, and no PENDING row of X older than h exists in C's snapshot.
//    C locks h (FOR UPDATE SKIP LOCKED), reads X's PENDING rows with seq >= h.seq (only
//    h when h failed before, see 3), cuts to max_rows in (head, seq) order, so C holds
//    a prefix of X's pending rows, and leases them all in the same statement.
// 2. One sender per order. Until C's lease on h ends no other claim D takes any row of
//    X: while C's transaction runs, h is locked (SKIP LOCKED passes it by; the re-check
//    after a wait sees the lease); after it committed, h is leased, so not a head, and
//    every later row of X fails D's NOT EXISTS, since h is still PENDING (a leased row
//    is pending for that rule). A lease ends when its relay records the batch
//    (complete_outbox_claim, release_outbox_claim) or when claimed_until passes. The
//    lease is longer than the producer's message.timeout.ms plus a margin: by the time
//    it runs out, the relay has every delivery report of the batch (or is gone), so
//    two relays never have X's messages in flight at once. A relay that records after
//    its lease ran out changes only rows still carrying its claim_id.
// 3. Order within the batch. The relay produces C's rows of X in seq order, through
//    one idempotent producer, under the same key, hence to one partition. The
//    idempotent producer writes a partition in produce order, retries included, and
//    with enable.gapless.guarantee any error that could leave a gap is fatal. The one
//    gap it allows is a message timeout (message.timeout.ms): a broker back just
//    between the timeouts of X's h and r2 could take r2 without h. The batch's messages
//    are queued within a millisecond and time out together, and an order whose head
//    failed once is claimed head-only until the head is through, so every batch during
//    an outage holds one message of X. A message refused at produce() time ends X's
//    run in this batch: the relay produces nothing after it.
// 4. What the database records. The relay marks SENT (or deletes: delivered_rows) a
//    prefix of X's run (the rows delivered before the first failure); either way they
//    stop being PENDING, which is all the claim looks at. The first failed row stays
//    PENDING (retry, with backoff, no limit) and is still X's head, or becomes DEAD
//    when no retry can cure it (too large: the only case where a later event is
//    published without an earlier one); the rows after it are released untouched. So
//    the database's delivered set and Kafka's log agree on a prefix. A record batch
//    the broker refused as too large holds no row of X in Kafka from X's first
//    refused row on (with the gapless guarantee nothing after it is written); within
//    the same lease the relay produces those rows again one at a time, in seq order,
//    each alone in its record batch (actors/outbox/relay_batch.hpp), and records the
//    same way: delivered up to X's first row not acknowledged alone, which is
//    retried, or DEAD when refused alone.
// 5. Crashes and lost batches. If the relay dies or loses the database before it
//    records, X's rows stay PENDING until the lease runs out; Kafka may hold a prefix
//    of them (3). The next claim starts again at the same head, so the events are sent
//    again from there: duplicates (consumers dedupe by event_id), and since each copy
//    of the run is in order, the first copies stay in order.
//
// Manually re-queueing a DEAD row whose order already has later SENT rows is the one
// way to break the order on purpose.
constexpr const char* claim_sql = R"SQL(
WITH heads AS (
  SELECT o.seq, o.aggregate_id, o.retry_count
  FROM outbox_events o
  WHERE o.status = 'PENDING' AND o.next_attempt_at <= now()
    AND (o.claimed_until IS NULL OR o.claimed_until < now())
    AND NOT EXISTS (SELECT 1 FROM outbox_events p
                    WHERE p.aggregate_id = o.aggregate_id AND p.status = 'PENDING'
                      AND p.seq < o.seq)
  ORDER BY o.seq
  LIMIT $1
  FOR UPDATE SKIP LOCKED
), runs AS (
  SELECT e.seq, row_number() OVER (ORDER BY h.seq, e.seq) AS rank
  FROM heads h
  JOIN outbox_events e ON e.aggregate_id = h.aggregate_id AND e.status = 'PENDING'
                      AND e.seq >= h.seq AND (($3 AND h.retry_count = 0) OR e.seq = h.seq)
), lease AS (
  SELECT nextval('outbox_claim_ids') AS id
)
UPDATE outbox_events e
SET claimed_until = now() + $4 * interval '1 millisecond', claim_id = lease.id
FROM runs, lease
WHERE e.seq = runs.seq AND runs.rank <= $2
RETURNING e.seq, e.event_id::text, e.aggregate_id::text, e.event_type, e.payload,
          e.retry_count, extract(epoch FROM e.created_at)::float8, e.claim_id,
          COALESCE(e.traceparent, '')
)SQL";

std::string bigint_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (auto v : values)
    out += (out.size() > 1 ? "," : "") + std::to_string(v);
  return out + "}";
}

constexpr const char* claim_name = outbox_claim_statement;
constexpr const char* mark_sent_name = "fs_outbox_mark_sent";
constexpr const char* mark_sent_sql =
  "UPDATE outbox_events SET status = 'SENT', sent_at = clock_timestamp(), "
  "claimed_until = NULL, claim_id = NULL "
  "WHERE seq = ANY($1::bigint[]) AND status = 'PENDING'";

constexpr const char* delete_sent_name = "fs_outbox_delete_sent";
constexpr const char* delete_sent_sql =
  "DELETE FROM outbox_events WHERE seq = ANY($1::bigint[]) AND status = 'PENDING'";

void mark_sent(pqxx::transaction_base& tx, const std::vector<std::int64_t>& sent,
               delivered_rows delivered) {
  if (sent.empty())
    return;
  bool keep = delivered == delivered_rows::keep;
  const char* name = keep ? mark_sent_name : delete_sent_name;
  tx.conn().prepare(name, keep ? mark_sent_sql : delete_sent_sql); // no-op once registered
  tx.exec_prepared(name, bigint_array(sent));
}

void mark_failed(pqxx::transaction_base& tx, std::int64_t claim_id,
                 const std::vector<outbox_failure>& failed) {
  if (failed.empty())
    return;
  std::string values;
  for (const auto& f : failed)
    values += (values.empty() ? "(" : ",(") + std::to_string(f.seq) + "::bigint,"
              + tx.quote(f.error) + "::text," + std::to_string(f.backoff.count()) + "::bigint,"
              + (f.dead ? "true" : "false") + ")";
  tx.exec("UPDATE outbox_events o SET retry_count = o.retry_count + 1, last_error = f.error, "
          "next_attempt_at = clock_timestamp() + f.backoff_ms * interval '1 millisecond', "
          "status = CASE WHEN f.dead THEN 'DEAD' ELSE 'PENDING' END, "
          "claimed_until = NULL, claim_id = NULL "
          "FROM (VALUES "
          + values + ") AS f(seq, error, backoff_ms, dead) WHERE o.seq = f.seq AND o.claim_id = "
          + std::to_string(claim_id) + " AND o.status = 'PENDING'");
}

void release(pqxx::transaction_base& tx, const outbox_claim& claim) {
  std::vector<std::int64_t> seqs;
  seqs.reserve(claim.rows.size());
  for (const auto& r : claim.rows)
    seqs.push_back(r.seq);
  tx.exec_params("UPDATE outbox_events SET claimed_until = NULL, claim_id = NULL "
                 "WHERE seq = ANY($1::bigint[]) AND claim_id = $2 AND status = 'PENDING'",
                 bigint_array(seqs), claim.claim_id);
}

} // namespace

outbox_claim claim_outbox(pqxx::connection_base& conn, std::size_t max_orders,
                          std::size_t max_rows, std::chrono::milliseconds lease, bool runs) {
  // One statement, so one round trip in autocommit: its locks (SKIP LOCKED) and its
  // leases commit together at its end. Prepared once per session: planning this
  // statement cost as much as running it.
  conn.prepare(claim_name, claim_sql); // no-op once registered
  pqxx::nontransaction tx{conn, "outbox_claim"};
  auto result = tx.exec_prepared(claim_name, static_cast<long>(max_orders),
                                 static_cast<long>(max_rows), runs,
                                 static_cast<long>(lease.count()));
  outbox_claim claim;
  claim.rows.reserve(result.size());
  std::unordered_set<std::string> orders;
  for (const auto& r : result) {
    outbox_row row;
    row.seq = r[0].as<std::int64_t>();
    row.event_id = r[1].as<std::string>();
    row.aggregate_id = r[2].as<std::string>();
    row.event_type = r[3].as<std::string>();
    row.payload = r[4].as<std::string>();
    row.retry_count = r[5].as<int>();
    row.created_at = r[6].as<double>();
    claim.claim_id = r[7].as<std::int64_t>();
    row.traceparent = r[8].as<std::string>();
    orders.insert(row.aggregate_id);
    claim.rows.push_back(std::move(row));
  }
  // RETURNING gives no order: the relay produces in seq order.
  std::sort(claim.rows.begin(), claim.rows.end(),
            [](const outbox_row& a, const outbox_row& b) { return a.seq < b.seq; });
  claim.orders = orders.size();
  return claim;
}

void complete_outbox_claim(pqxx::connection_base& conn, const outbox_claim& claim,
                           const std::vector<std::int64_t>& sent,
                           const std::vector<outbox_failure>& failed,
                           delivered_rows delivered) {
  if (failed.empty() && sent.size() == claim.rows.size()) {
    // The usual batch, every row delivered: one statement, one round trip.
    pqxx::nontransaction tx{conn, "outbox_complete"};
    mark_sent(tx, sent, delivered);
    return;
  }
  pqxx::work tx{conn, "outbox_complete"};
  mark_sent(tx, sent, delivered);
  mark_failed(tx, claim.claim_id, failed);
  if (sent.size() + failed.size() < claim.rows.size())
    release(tx, claim);
  tx.commit();
}

void release_outbox_claim(pqxx::connection_base& conn, const outbox_claim& claim) {
  if (claim.rows.empty())
    return;
  pqxx::work tx{conn, "outbox_release"};
  release(tx, claim);
  tx.commit();
}

bool outbox_has_due_rows(pqxx::connection_base& conn) {
  pqxx::read_transaction tx{conn};
  return tx
    .exec1("SELECT EXISTS (SELECT 1 FROM outbox_events "
           "WHERE status = 'PENDING' AND next_attempt_at <= now() "
           "AND (claimed_until IS NULL OR claimed_until < now()))")[0]
    .as<bool>();
}

void listen_for_outbox(pqxx::connection_base& conn) {
  pqxx::nontransaction tx{conn};
  tx.exec(std::string{"LISTEN "} + tx.quote_name(outbox_channel));
}

void prepare_relay_session(pqxx::connection_base& conn) {
  listen_for_outbox(conn);
  // The relays' own transactions need no fsync: a lost lease or SENT mark only means
  // the rows are sent again from their order's head (point 5 above). Set once for the
  // session, not per transaction: one round trip less for each of them.
  pqxx::nontransaction tx{conn};
  tx.exec("SET synchronous_commit = off");
  // outbox_events is a queue: its statistics are stale whenever its size swings (a new
  // table, a stampede's backlog, a drained one). Planned on such statistics the claim
  // read every pending row, bitmap scan and sort, to take 256 (a backlog of 20 000: 45 000
  // buffers and 36 ms a claim instead of 3 300 and 3 ms), so the bigger the backlog the
  // slower the relays that should drain it. Every statement of a relay session has an
  // index that answers it in order; forbid the others.
  tx.exec("SET enable_seqscan = off");
  tx.exec("SET enable_bitmapscan = off");
}

int await_outbox_notification(pqxx::connection_base& conn, std::chrono::microseconds timeout) {
  if (timeout.count() <= 0)
    return conn.get_notifs();
  return conn.await_notification(timeout.count() / 1000000,
                                 static_cast<long>(timeout.count() % 1000000));
}

outbox_stats read_outbox_stats(pqxx::connection_base& conn) {
  pqxx::read_transaction tx{conn};
  auto r =
    tx.exec1("SELECT (SELECT count(*) FROM outbox_events WHERE status = 'PENDING'), "
             "(SELECT count(*) FROM outbox_events WHERE status = 'PENDING' AND retry_count > 0), "
             "COALESCE((SELECT extract(epoch FROM clock_timestamp() - created_at)::float8 "
             "          FROM outbox_events WHERE status = 'PENDING' ORDER BY seq LIMIT 1), 0), "
             "(SELECT count(*) FROM outbox_events WHERE status = 'DEAD')");
  outbox_stats s;
  s.pending = r[0].as<std::int64_t>();
  s.waiting = r[1].as<std::int64_t>();
  s.oldest_pending_age_s = r[2].as<double>();
  s.dead = r[3].as<std::int64_t>();
  return s;
}

std::size_t delete_sent_outbox_rows(pqxx::connection_base& conn, std::chrono::seconds retention,
                                    std::size_t limit) {
  pqxx::work tx{conn, "outbox_janitor"};
  auto r = tx.exec_params("DELETE FROM outbox_events WHERE seq IN ("
                          "  SELECT seq FROM outbox_events WHERE status = 'SENT'"
                          "    AND sent_at < now() - $1 * interval '1 second'"
                          "  ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                          static_cast<long>(retention.count()), static_cast<long>(limit));
  tx.commit();
  return r.affected_rows();
}

} // namespace flashsale::persistence
