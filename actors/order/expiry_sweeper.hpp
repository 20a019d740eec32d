#pragma once
// The expiry sweeper (DESIGN.md "Expiry"): live order actors fire their own deadline
// timers; this detached actor catches the orders whose actor is not live (passivated,
// or lost with a restart). Every interval it claims orders past their deadline in the
// shards this node owns and sends each one's id to the registry as (expire_atom, id),
// so even expiry goes through the order's single writer. Every node that owns shards
// sweeps them (shards follow the group's assignment, roles do not matter).

#include "actors/order/order_protocol.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace flashsale {

class metrics_registry;
class shard_ownership;

struct expiry_settings {
  std::string database_url;                        // DATABASE_URL
  std::chrono::milliseconds interval{1000};        // between sweeps
  std::chrono::milliseconds busy_interval{50};     // after a sweep that filled its batch
  std::size_t batch = 250;                         // due orders taken per sweep
  /// Expire requests awaiting an answer, at most: a backlog of due deadlines (after a
  /// restart) drains at this pace instead of queueing thousands of writes in front of
  /// the API's.
  std::size_t max_in_flight = 500;
  std::chrono::milliseconds request_timeout{5000}; // an answer from the registry
  /// How long a claimed deadline row is left to this sweeper: the sweepers of other
  /// nodes skip it meanwhile, and it is swept again if its expiry got lost. Longer than
  /// request_timeout, so that an answer normally comes first.
  std::chrono::milliseconds claim{15000};
};

/// Spawns the sweeper and registers its metrics in `metrics`, which must outlive it.
/// An id still awaiting its answer is not sent again.
/// `shards`: what this node owns; none: every deadline (tools and tests).
caf::actor spawn_expiry_sweeper(caf::actor_system& sys, const expiry_settings& settings,
                                order_api registry, std::shared_ptr<const shard_ownership> shards,
                                metrics_registry& metrics);

/// Sends the sweeper an exit message and blocks until it is gone.

} // namespace flashsale
