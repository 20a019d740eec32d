#pragma once
// How often a node writes its row in cluster_nodes (its address for the peers'
// directories) and how long a row without a heartbeat still counts; the one home of
// these defaults (app/config composes it, cluster_settings extends it).

#include <chrono>

namespace flashsale {

struct cluster_timing {
  std::chrono::milliseconds heartbeat{1000}; // CLUSTER_HEARTBEAT_MS
  std::chrono::milliseconds timeout{5000};   // CLUSTER_TIMEOUT_MS
};

} // namespace flashsale
