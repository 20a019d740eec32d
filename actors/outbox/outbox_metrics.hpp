#pragma once
// The outbox relay pool's metrics, shared by its relays and its janitor.

#include "metrics/metrics.hpp"

#include <atomic>
#include <memory>

namespace flashsale {

/// The values the janitor reads once a stats interval; scrapes only load them.
struct outbox_gauges {
  std::atomic<double> pending{0};
  std::atomic<double> waiting{0};
  std::atomic<double> oldest_pending_age_s{0};
  std::atomic<double> dead{0};
};

struct relay_metrics {
  counter* published = nullptr;
  counter* dead = nullptr;
  counter* failed_attempts = nullptr;
  counter* empty_claims = nullptr;
  counter* contended_claims = nullptr;
  counter* abandoned_batches = nullptr;
  counter* refused_batches = nullptr; // a broker refused a record batch as too large
  counter* retried_alone = nullptr;   // rows produced again alone after that
  counter* delivered_alone = nullptr; // ... and acknowledged so
  histogram* lag = nullptr;
  histogram* batch_rows = nullptr;
  std::shared_ptr<outbox_gauges> gauges = std::make_shared<outbox_gauges>();
};

/// Registers the outbox metrics in `reg`, which must outlive every user of them.
relay_metrics register_outbox_metrics(metrics_registry& reg);

} // namespace flashsale
