#pragma once
// What the outbox relays and their janitor need to know, with every default written
// once: app/config holds these settings (OUTBOX_*) and fills in the rest.

#include "messages/events.hpp"
#include "persistence/pg_limits.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace flashsale {

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
  /// OUTBOX_RETENTION_S: how long a delivered row is kept (SENT) before the janitor
  /// deletes it; 0 deletes it at delivery, the cheapest record (docs/OUTBOX.md).
  std::chrono::seconds retention{0};
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

} // namespace flashsale
