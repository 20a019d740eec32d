#pragma once
// The order router (DESIGN.md "Many nodes"): stands in front of the local registry and
// speaks its protocol. Reads and expiries stay here (the registry answers a read of
// another node's order from PostgreSQL, and the sweeper sweeps owned shards only). A
// cancel or a saga event of an order this node does not own goes to the node that
// acquired its shard, over CAF's middleman (a saga event only when a producer put it on
// another partition than the contract says: counted); while no owner is known or it
// does not answer, the command fails (a cancel is answered 503 with Retry-After, an
// event is tried again). This node never writes an order it does not own.

#include "actors/order/order_protocol.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace flashsale {

class cluster_view;
class metrics_registry;
class shard_ownership;

struct router_settings {
  std::chrono::milliseconds forward_timeout{13000}; // time_budgets::forward (app/config.hpp)
};

/// Speaks the order protocol (actors/order/order_protocol.hpp) in front of the local
/// `registry`. `metrics` must outlive it.
order_api spawn_order_router(caf::actor_system& sys, order_api registry,
                              std::shared_ptr<const cluster_view> view,
                              std::shared_ptr<const shard_ownership> shards,
                              router_settings settings, metrics_registry& metrics);

} // namespace flashsale
