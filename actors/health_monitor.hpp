#pragma once
// Probes PostgreSQL and Kafka in the background so that /readyz answers at once from
// the last result instead of blocking an HTTP thread.

#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace flashsale {

struct health_state {
  std::atomic<bool> database_ok{false};
  std::atomic<bool> kafka_ok{false};
  bool ready() const { return database_ok.load() && kafka_ok.load(); }
};

/// A detached actor that probes both every `interval` and writes the results to `state`.
caf::actor spawn_health_monitor(caf::actor_system& sys, std::string database_url,
                                std::string kafka_brokers, std::shared_ptr<health_state> state,
                                std::chrono::milliseconds interval);

} // namespace flashsale
