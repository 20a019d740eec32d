#pragma once
// SQL of the outbox relay: claiming batches of pending events, recording what Kafka
// acknowledged, the janitor's clean-up and the gauges' statistics. Blocking: call only
// from a detached actor or a thread of its own.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
class dbtransaction;
} // namespace pqxx

namespace flashsale::persistence {

/// One pending event as the relay publishes it.
struct outbox_row {
  std::int64_t seq = 0;
  std::string event_id;
  std::string aggregate_id; // the order id: the Kafka key
  std::string event_type;
  std::string payload; // the whole envelope: the Kafka value
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

/// A claimed batch: an open transaction holding the row locks, and the rows in seq
/// order. Destroying an unfinished claim rolls it back (the rows stay PENDING).
class outbox_claim {
public:
  explicit outbox_claim(pqxx::connection_base& conn);
  ~outbox_claim();
  outbox_claim(const outbox_claim&) = delete;
  outbox_claim& operator=(const outbox_claim&) = delete;

  const std::vector<outbox_row>& rows() const { return rows_; }
  /// How many distinct orders the batch holds.
  std::size_t orders() const { return orders_; }

  /// Marks `sent` SENT and `failed` for retry (or DEAD), then commits.
  void complete(const std::vector<std::int64_t>& sent, const std::vector<outbox_failure>& failed);
  /// Rolls back: every row stays as it was before the claim.
  void abandon();

private:
  friend std::unique_ptr<outbox_claim> claim_outbox(pqxx::connection_base&, std::size_t,
                                                    std::size_t, bool);
  std::unique_ptr<pqxx::dbtransaction> tx_;
  std::vector<outbox_row> rows_;
  std::size_t orders_ = 0;
};

/// Claims the pending runs of up to `max_orders` orders (only their oldest pending
/// rows unless `runs`), at most `max_rows` rows in all, skipping rows other relays
/// hold. See outbox_repository.cpp for why this keeps every order's events in commit
/// order. Throws on database errors.
std::unique_ptr<outbox_claim> claim_outbox(pqxx::connection_base& conn, std::size_t max_orders,
                                           std::size_t max_rows, bool runs = true);

/// Whether any pending row is due (used to tell contention from an empty outbox).
bool outbox_has_due_rows(pqxx::connection_base& conn);

/// LISTEN on the channel raised when new outbox rows commit.
void listen_for_outbox(pqxx::connection_base& conn);

/// Serves the notifications that arrived, waiting at most `timeout` for one when none
/// has; returns how many were served.
int await_outbox_notification(pqxx::connection_base& conn, std::chrono::microseconds timeout);

struct outbox_stats {
  std::int64_t pending = 0;
  double oldest_pending_age_s = 0;
  std::int64_t dead = 0;
};

/// Counts from the partial indexes; cost grows with the backlog, not the table.
outbox_stats read_outbox_stats(pqxx::connection_base& conn);

/// Deletes up to `limit` SENT rows older than `retention`; returns how many.
std::size_t delete_sent_outbox_rows(pqxx::connection_base& conn, std::chrono::seconds retention,
                                    std::size_t limit);

} // namespace flashsale::persistence
