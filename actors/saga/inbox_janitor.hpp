#pragma once
// The inbox janitor of the `consumer` role (CONTRACT §6): processed_events remembers each
// incoming event_id for INBOX_RETENTION_S, long enough for any redelivery, then forgets
// it in small batches, as the outbox janitor does with SENT rows. A detached actor: its
// DELETEs never run on the cooperative scheduler.

#include "persistence/pg_session.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace flashsale {

class metrics_registry;

struct inbox_janitor_settings {
  std::string database_url;
  persistence::pg_limits db_limits;
  std::chrono::seconds retention{14 * 24 * 3600}; // INBOX_RETENTION_S (app/config.hpp)
  std::chrono::milliseconds interval{10000};      // INBOX_JANITOR_INTERVAL_MS
  std::size_t batch = 1000;                       // INBOX_JANITOR_BATCH: rows per DELETE
};

/// Deletes expired inbox rows every interval; counts them in inbox_rows_deleted_total.
caf::actor spawn_inbox_janitor(caf::actor_system& sys, const inbox_janitor_settings& settings,
                               metrics_registry& metrics);

} // namespace flashsale
