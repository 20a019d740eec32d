#pragma once
// The cluster's directory of peers (DESIGN.md "Many nodes"). Ownership is not decided
// here: Kafka's consumer group assigns the shards (actors/saga, shard_ownership.hpp)
// and PostgreSQL's shard_owners records who acquired each at which epoch. A detached
// actor upserts this node's address in cluster_nodes every `heartbeat`, reads the
// nodes whose row is younger than `timeout` and the shard owners, connects to the
// peers' published registries through CAF's middleman (each connect in a detached
// helper, since it blocks) and publishes the routing table: who owns each shard and
// how to reach each peer. The router forwards a cancel to its owner over that table.
// Of two nodes, the one with the smaller node id dials and then says hello with its
// own gate over that connection; the other waits for the hello (dialling itself only
// when none comes within a few heartbeats). Both dialling at once made CAF close both
// connections as redundant, and the nodes dropped each other right after connecting.

#include "actors/cluster/cluster_timing.hpp"
#include "actors/cluster/cluster_tls.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace flashsale {

class metrics_registry;

struct cluster_settings : cluster_timing { // heartbeat, timeout
  std::string database_url;                  // DATABASE_URL
  std::string node_id;                       // NODE_ID
  std::string host;                          // CLUSTER_HOST: where peers reach this node
  std::uint16_t caf_port = 0; // the port the registry is published on; 0: none (alone)
  std::string http_url;                      // informational, in cluster_nodes
  cluster_tls tls;                           // CLUSTER_TLS_CA, CLUSTER_TLS_CERT, CLUSTER_TLS_KEY
  bool insecure = false;                     // CLUSTER_INSECURE: peers in plaintext allowed
  std::chrono::milliseconds diagnose_timeout{2000}; // a TLS probe of a peer that fails
  int dial_grace_beats = 3; // a node with a greater id waits this long for a peer's hello
  /// Whether this node may talk to peers at all: over TLS, or in plaintext when the
  /// operator said so. Otherwise it opens no cluster port and runs alone (CONTRACT §7).
  bool peers_allowed() const { return tls.enabled() || insecure; }
};

/// Who owns which shard and how to reach each peer, as one node sees it at one moment.
/// Immutable once published.
struct routing_table {
  std::string self;
  std::vector<std::string> nodes;               // sorted; self and every reachable peer
  std::map<std::string, caf::actor> registries; // the peers' registries, by node id
  std::map<int, std::string> shard_owner;       // the last acquirer of each shard

  /// The node that last acquired the order's shard among `count`, if any did.
  std::optional<std::string> owner_of(const std::string& order_id, int count) const;
};

/// The current routing table, written by the membership actor and read by the router
/// and the expiry sweeper from their own threads.
class cluster_view {
public:
  explicit cluster_view(std::string self);
  std::shared_ptr<const routing_table> current() const;
  void update(std::shared_ptr<const routing_table> table);

private:
  mutable std::mutex mtx_;
  std::shared_ptr<const routing_table> table_;
};

/// Spawns the directory actor; `metrics` must outlive it.
/// `gate` is what this node publishes (actors/cluster_gate.hpp).
caf::actor spawn_cluster_member(caf::actor_system& sys, cluster_settings settings,
                                std::shared_ptr<cluster_view> view, caf::actor gate,
                                metrics_registry& metrics);

/// Marks this node as gone in cluster_nodes (peers stop dialling it) and stops the
/// directory actor; blocks until it is gone.
void stop_cluster_member(caf::actor_system& sys, const caf::actor& member);

} // namespace flashsale
