#pragma once
// The outbox relay pool (DESIGN.md "Outbox relay"): detached actors that move committed
// events from outbox_events to Kafka, at least once and in commit order per order,
// sharing the work with every other relay (in this process or any other) through
// FOR UPDATE SKIP LOCKED. Plus a janitor that deletes old SENT rows and refreshes the
// outbox gauges.

#include "messages/events.hpp"
#include "persistence/pg_session.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

namespace flashsale {

class metrics_registry;
struct outbox_gauges;

struct relay_settings {
  std::string database_url;
  /// Bounds on every relay and janitor connection, and on each of their database calls
  /// (cut by the pg_session watchdog after db_limits.call_timeout(), as every other
  /// component's): a silent database neither holds a relay nor its shutdown.
  persistence::pg_limits db_limits;
  std::string kafka_brokers;
  std::string topic = topics::order_events;
  std::size_t relays = 4;                         // OUTBOX_RELAYS
  std::size_t batch = 1024;                       // OUTBOX_BATCH: rows per claim
  std::chrono::milliseconds poll_interval{1000};  // OUTBOX_POLL_MS: fallback without NOTIFY
  /// After a NOTIFY (or a batch that was not full) a relay waits this long before it
  /// claims, so a stampede of commits becomes a few full claims, not thousands of tiny
  /// ones; adds at most this much to the lag.
  std::chrono::milliseconds wakeup_coalesce{5};
  std::chrono::seconds retention{3600};           // OUTBOX_RETENTION_S: keep SENT rows
  std::chrono::milliseconds backoff_base{500};    // first retry after this, doubling
  std::chrono::milliseconds backoff_max{5000};    // up to this; retries never end
  /// A produced event not acknowledged within this fails (and is retried later), so a
  /// relay always learns the fate of its batch within a bounded time.
  std::chrono::milliseconds message_timeout{5000};
  /// A claimed batch is leased for message_timeout + lease_margin: the relay records it
  /// long before, and only a relay that died leaves its rows to wait for the lease.
  std::chrono::milliseconds lease_margin{5000};
  std::chrono::milliseconds stats_interval{1000}; // gauges and janitor
  std::size_t janitor_chunk = 5000;               // rows per DELETE
  double linger_ms = 2;                           // producer linger
  bool janitor = true;                            // also run the janitor
  /// How long a stopping relay waits for its batch's delivery reports before it
  /// gives the batch up (releases its lease; the rows are sent again later).
  std::chrono::milliseconds shutdown_grace{2000};
  /// Longest a relay blocks in one step (waiting for NOTIFY or delivery reports);
  /// bounds how long an exit message waits.
  std::chrono::milliseconds wait_slice{100};
  /// Produce requests in flight per broker connection (idempotence keeps the order
  /// with up to 5); see docs/ARCHITECTURE.md "Kafka client settings".
  int max_in_flight = 5;
  /// Claim each order's whole pending run, not only its oldest pending event (DESIGN.md's
  /// rule, one event per order and batch); false only to compare in the benchmark.
  bool claim_runs = true;
  /// More librdkafka properties, applied last.
  std::map<std::string, std::string> producer_extra;
};

/// Spawns `relays` relay actors and (if enabled) the janitor under a supervisor, and
/// registers the outbox metrics in `metrics`, which must outlive the actors. Sending
/// the returned actor an exit message stops them all: each relay finishes its batch
/// or rolls it back. The supervisor terminates after its last child, so
/// Stop it with stop_and_wait (actors/stop.hpp), which returns when the relays are done.
/// `gauges`, when given, receives the backlog the janitor refreshes (for /readyz).
caf::actor spawn_outbox_relays(caf::actor_system& sys, const relay_settings& settings,
                               metrics_registry& metrics,
                               std::shared_ptr<const outbox_gauges>* gauges = nullptr);

/// Sends the relay supervisor an exit message and blocks until every relay has ended.

} // namespace flashsale
