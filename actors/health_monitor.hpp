#pragma once
// Probes PostgreSQL and Kafka in the background so that /readyz answers at once from
// the last result instead of blocking an HTTP thread.

#include "actors/cluster/shard_ownership.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace flashsale {

struct outbox_gauges;

struct health_state {
  std::atomic<bool> database_ok{false};
  std::atomic<bool> kafka_ok{false};
  /// The outbox backlog as the relay pool's janitor last read it (every second), shown
  /// by /readyz; null in a process without the relay role. Set before HTTP starts.
  std::shared_ptr<const outbox_gauges> outbox;
  /// This node's shards (DESIGN.md "Many nodes"): a create mints its id in one of them,
  /// and /readyz waits until the shards' group has answered once. Null in a process
  /// that owns no shards (the relay role alone).
  std::shared_ptr<const shard_ownership> shards;
  bool joined() const { return !shards || shards->joined(); }
  bool ready() const { return database_ok.load() && kafka_ok.load() && joined(); }
};

/// A detached actor that probes both every `interval` and writes the results to `state`.
caf::actor spawn_health_monitor(caf::actor_system& sys, std::string database_url,
                                std::string kafka_brokers, std::shared_ptr<health_state> state,
                                std::chrono::milliseconds interval);

} // namespace flashsale
