#pragma once
// SQL of the outbox relay: claiming batches of pending events, recording what Kafka
// acknowledged, the janitor's clean-up and the gauges' statistics. Blocking: call only
// from a detached actor or a thread of its own.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace flashsale::persistence {

/// One pending event as the relay publishes it.
struct outbox_row {
  std::int64_t seq = 0;
  std::string event_id;
  std::string aggregate_id; // the order id: the Kafka key
  std::string event_type;
  std::string payload; // the whole envelope: the Kafka value
  std::string traceparent; // W3C, the event's traceparent header; empty: none
  int retry_count = 0;
  double created_at = 0; // Unix seconds
};

/// A row whose publication failed, with what to do about it.
struct outbox_failure {
  std::int64_t seq = 0;
  std::string error;
  std::chrono::milliseconds backoff{0}; // next attempt no earlier than now + backoff
  bool dead = false;                    // give up: status DEAD
};

/// A claimed batch: rows leased to one relay until `claimed_until` (the lease is
/// committed; no transaction stays open), in seq order.
struct outbox_claim {
  std::int64_t claim_id = 0;
  std::vector<outbox_row> rows;
  std::size_t orders = 0; // how many distinct orders the batch holds
};

/// Claims the pending runs of up to `max_orders` orders (only their oldest pending
/// rows unless `runs`; only the oldest of an order whose oldest already failed), at
/// most `max_rows` rows in all, skipping rows other relays hold, and leases them for
/// `lease`. See outbox_repository.cpp for why this keeps every order's events in
/// commit order. Throws on database errors.
/// The name claim_outbox prepares its statement under in a session (for EXPLAIN).
inline constexpr const char* outbox_claim_statement = "fs_outbox_claim";

outbox_claim claim_outbox(pqxx::connection_base& conn, std::size_t max_orders,
                          std::size_t max_rows, std::chrono::milliseconds lease,
                          bool runs = true);

/// How a delivered row is recorded. `remove` deletes it: a DELETE sets one field of the
/// row's header and writes no new row version and no index entry, where the SENT mark
/// (`keep`) writes a whole new version of the row and an entry in three indexes
/// (PostgreSQL cannot make it a HOT update: `status` is in the predicates of the pending
/// indexes), and the janitor deletes it an hour later anyway. Both keep every guarantee
/// of the claim (outbox_repository.cpp): a delivered row stops being PENDING either way.
enum class delivered_rows { keep, remove };

/// Records `sent` (SENT, or deleted: `delivered`) and `failed` for retry (or DEAD),
/// releases the claim's other rows, in one transaction. Throws on database errors (the
/// lease then simply runs out).
void complete_outbox_claim(pqxx::connection_base& conn, const outbox_claim& claim,
                           const std::vector<std::int64_t>& sent,
                           const std::vector<outbox_failure>& failed,
                           delivered_rows delivered = delivered_rows::keep);

/// Releases every row of the claim as it was (they are claimable again at once).
void release_outbox_claim(pqxx::connection_base& conn, const outbox_claim& claim);

/// Whether any pending row is due (used to tell contention from an empty outbox).
bool outbox_has_due_rows(pqxx::connection_base& conn);

/// LISTEN on the channel raised when new outbox rows commit.
void listen_for_outbox(pqxx::connection_base& conn);

/// Makes `conn` a relay's own session: LISTEN (above), synchronous_commit off for
/// every transaction on it (a lost lease or SENT mark only re-sends), and index scans
/// only, so that the claim costs the rows it takes, not the backlog (see the .cpp).
/// Never call it on a connection that commits orders.
void prepare_relay_session(pqxx::connection_base& conn);

/// Serves the notifications that arrived, waiting at most `timeout` for one when none
/// has; returns how many were served.
int await_outbox_notification(pqxx::connection_base& conn, std::chrono::microseconds timeout);

struct outbox_stats {
  std::int64_t pending = 0;
  std::int64_t waiting = 0; // pending rows whose last attempt failed (retried later)
  double oldest_pending_age_s = 0;
  std::int64_t dead = 0;
};

/// Counts from the partial indexes; cost grows with the backlog, not the table.
outbox_stats read_outbox_stats(pqxx::connection_base& conn);

/// Deletes up to `limit` SENT rows older than `retention`; returns how many.
std::size_t delete_sent_outbox_rows(pqxx::connection_base& conn, std::chrono::seconds retention,
                                    std::size_t limit);

} // namespace flashsale::persistence
