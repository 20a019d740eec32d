#pragma once
// Detached actors that own PostgreSQL connections: the group-commit writers and the
// readers. Blocking libpqxx calls run only here, never on CAF's cooperative workers.

#include <caf/fwd.hpp>

#include "metrics/metrics.hpp"
#include "persistence/pg_session.hpp"

#include <cstddef>
#include <string>

namespace flashsale {

/// A round-robin pool of `count` group-commit writers. Each collects the create and
/// write commands that queue up while it commits, and commits them together in one
/// transaction (at most `max_batch` a time); every request gets its own outcome.
/// Handles: (create_atom, create_command) -> create_outcome,
///          (write_atom, write_command) -> write_outcome.
/// With `metrics`, records batch sizes and commit latency.
caf::actor spawn_db_writers(caf::actor_system& sys, const std::string& database_url,
                            std::size_t count, std::size_t max_batch,
                            metrics_registry* metrics = nullptr,
                            persistence::pg_limits limits = {});

/// A round-robin pool of `count` readers.
/// Handles: (load_atom, std::string order_id) -> load_reply,
///          (early_atom, std::string order_id) -> early_reply,
///          (list_atom, list_query) -> list_reply.
caf::actor spawn_db_readers(caf::actor_system& sys, const std::string& database_url,
                            std::size_t count, persistence::pg_limits limits = {});

} // namespace flashsale
