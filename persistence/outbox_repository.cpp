#include "persistence/outbox_repository.hpp"

#include "persistence/order_repository.hpp"

#include <pqxx/pqxx>

#include <unordered_set>

namespace flashsale::persistence {

namespace {

// The claim. An order's pending rows are claimed as a whole run, from its oldest
// pending row (the head) on, so an order with several events drains in one batch
// instead of one batch per event.
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
// 1. Heads only. A transaction T takes rows of order X only through X's head h: h is
//    PENDING and due, and no PENDING row of X older than h exists in T's snapshot.
//    T locks h (FOR UPDATE) and reads X's PENDING rows with seq >= h.seq; with the cut
//    to max_rows in (head, seq) order T holds a prefix of X's pending rows.
// 2. One sender per order. While T holds h's lock no other transaction U takes any row
//    of X: h itself is locked (SKIP LOCKED passes it by, and if T has already finished
//    with it, the re-check after the lock sees it SENT, or retried and not due); every
//    later row r of X fails U's NOT EXISTS, since h is PENDING in every snapshot taken
//    before T commits (only T can change h). So X's rows are sent by one transaction
//    at a time, in the order of those transactions.
// 3. Order within T. The relay produces T's rows of X in seq order, through one
//    idempotent producer, under the same key, hence to one partition. The idempotent
//    producer writes a partition in produce order, retries included. Its one way to
//    write r2 after failing r1 before it would be a gap, and the relay's producer
//    excludes gaps: no message timeout (message.timeout.ms=0) and
//    enable.gapless.guarantee (any other gap becomes a fatal error that fails
//    everything after it). A message refused at produce() time ends X's run in this
//    batch: the relay produces nothing after it.
// 4. What the database records. The relay marks SENT a prefix of X's run (the rows
//    delivered before the first failure); the first failed row stays PENDING (retry,
//    with backoff) and is still X's head, or becomes DEAD (given up, logged and
//    counted: the only case where a later event is published without an earlier
//    one); the rows after it are not touched. So the database's SENT set and Kafka's
//    log agree on a prefix.
// 5. Crashes and abandoned batches. If T rolls back (relay stopped, killed, database
//    lost), all of X's rows stay PENDING; Kafka may hold a prefix of them (3). The next
//    claim starts again at the same head, so the events are sent again from there:
//    duplicates (consumers dedupe by event_id), but the first copies stay in order.
//
// The follower rows are read without a lock: by (2) nobody else can claim them while
// T holds h, and their payload never changes. Manually re-queueing a DEAD row whose
// order already has later SENT rows is the one way to break the order on purpose.
constexpr const char* claim_sql = R"SQL(
WITH heads AS (
  SELECT o.seq, o.aggregate_id
  FROM outbox_events o
  WHERE o.status = 'PENDING' AND o.next_attempt_at <= now()
    AND NOT EXISTS (SELECT 1 FROM outbox_events p
                    WHERE p.aggregate_id = o.aggregate_id AND p.status = 'PENDING'
                      AND p.seq < o.seq)
  ORDER BY o.seq
  LIMIT $1
  FOR UPDATE SKIP LOCKED
), runs AS (
  SELECT e.seq, e.event_id, e.aggregate_id, e.event_type, e.payload, e.retry_count,
         e.created_at, row_number() OVER (ORDER BY h.seq, e.seq) AS rank
  FROM heads h
  JOIN outbox_events e ON e.aggregate_id = h.aggregate_id AND e.status = 'PENDING'
                      AND e.seq >= h.seq AND ($3 OR e.seq = h.seq)
)
SELECT seq, event_id::text, aggregate_id::text, event_type, payload, retry_count,
       extract(epoch FROM created_at)::float8
FROM runs WHERE rank <= $2 ORDER BY seq
)SQL";

std::string bigint_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (auto v : values)
    out += (out.size() > 1 ? "," : "") + std::to_string(v);
  return out + "}";
}

void mark_sent(pqxx::transaction_base& tx, const std::vector<std::int64_t>& sent) {
  if (sent.empty())
    return;
  tx.exec_params("UPDATE outbox_events SET status = 'SENT', sent_at = clock_timestamp() "
                 "WHERE seq = ANY($1::bigint[])",
                 bigint_array(sent));
}

void mark_failed(pqxx::transaction_base& tx, const std::vector<outbox_failure>& failed) {
  if (failed.empty())
    return;
  std::string values;
  for (const auto& f : failed)
    values += (values.empty() ? "(" : ",(") + std::to_string(f.seq) + "::bigint,"
              + tx.quote(f.error) + "::text," + std::to_string(f.backoff.count()) + "::bigint,"
              + (f.dead ? "true" : "false") + ")";
  tx.exec("UPDATE outbox_events o SET retry_count = o.retry_count + 1, last_error = f.error, "
          "next_attempt_at = clock_timestamp() + f.backoff_ms * interval '1 millisecond', "
          "status = CASE WHEN f.dead THEN 'DEAD' ELSE 'PENDING' END "
          "FROM (VALUES "
          + values + ") AS f(seq, error, backoff_ms, dead) WHERE o.seq = f.seq");
}

} // namespace

outbox_claim::outbox_claim(pqxx::connection_base& conn)
  : tx_(std::make_unique<pqxx::work>(conn, "outbox_claim")) {}

outbox_claim::~outbox_claim() = default;

void outbox_claim::complete(const std::vector<std::int64_t>& sent,
                            const std::vector<outbox_failure>& failed) {
  mark_sent(*tx_, sent);
  mark_failed(*tx_, failed);
  tx_->commit();
}

void outbox_claim::abandon() {
  tx_->abort();
}

std::unique_ptr<outbox_claim> claim_outbox(pqxx::connection_base& conn, std::size_t max_orders,
                                           std::size_t max_rows, bool runs) {
  auto claim = std::make_unique<outbox_claim>(conn);
  // The batch's commit need not wait for its WAL flush: a crash can only lose a suffix
  // of the most recent commits, i.e. SENT marks of events Kafka already has. Those rows
  // are PENDING again after recovery and sent again from their order's head (point 5):
  // duplicates, never a loss or a reordering. It halves the relay's commit time.
  claim->tx_->exec("SET LOCAL synchronous_commit = off");
  auto result = claim->tx_->exec_params(claim_sql, static_cast<long>(max_orders),
                                        static_cast<long>(max_rows), runs);
  claim->rows_.reserve(result.size());
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
    orders.insert(row.aggregate_id);
    claim->rows_.push_back(std::move(row));
  }
  claim->orders_ = orders.size();
  return claim;
}

bool outbox_has_due_rows(pqxx::connection_base& conn) {
  pqxx::read_transaction tx{conn};
  return tx
    .exec1("SELECT EXISTS (SELECT 1 FROM outbox_events "
           "WHERE status = 'PENDING' AND next_attempt_at <= now())")[0]
    .as<bool>();
}

void listen_for_outbox(pqxx::connection_base& conn) {
  pqxx::nontransaction tx{conn};
  tx.exec(std::string{"LISTEN "} + tx.quote_name(outbox_channel));
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
             "COALESCE((SELECT extract(epoch FROM clock_timestamp() - created_at)::float8 "
             "          FROM outbox_events WHERE status = 'PENDING' ORDER BY seq LIMIT 1), 0), "
             "(SELECT count(*) FROM outbox_events WHERE status = 'DEAD')");
  outbox_stats s;
  s.pending = r[0].as<std::int64_t>();
  s.oldest_pending_age_s = r[1].as<double>();
  s.dead = r[2].as<std::int64_t>();
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
