#pragma once
// The saga consumer's metrics (docs/OPERATIONS.md): registered once, recorded by the
// consumer actor from what its pipeline decided.

#include "messages/replies.hpp"
#include "metrics/metrics.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace flashsale {

struct saga_gauges {
  std::atomic<double> in_flight{0};
  std::atomic<double> lag{0};
  std::atomic<double> shards_owned{0};
};

struct saga_metrics {
  metrics_registry* registry = nullptr;
  std::unordered_map<std::string, counter*> consumed; // per known event type
  std::map<event_status, counter*> handled;
  counter* unknown_type = nullptr;
  counter* dlq = nullptr;
  counter* dlq_truncated = nullptr;
  counter* dlq_lost = nullptr;
  counter* retries = nullptr;
  counter* stale_answers = nullptr;
  counter* rebalances = nullptr;
  counter* pauses = nullptr;
  std::map<std::string, counter*> client_errors; // by librdkafka call
  histogram* handle_seconds = nullptr;
  // shard ownership (shard_membership.cpp)
  counter* shard_acquisitions = nullptr;
  counter* shard_writers_ended = nullptr;
  counter* shards_revoked = nullptr;
  counter* shards_lost = nullptr;
  std::shared_ptr<saga_gauges> gauges = std::make_shared<saga_gauges>();

  /// The event type is known (a bounded set), so it can be a label.
  counter& consumed_of(const std::string& type);
};

saga_metrics register_saga_metrics(metrics_registry& reg);

} // namespace flashsale
