#pragma once
// The expiry sweeper (DESIGN.md "Expiry"): live order actors fire their own deadline
// timers; this detached actor catches the orders whose actor is not live (passivated,
// or lost with a restart). Every interval it asks the database for orders past their
// deadline and sends each one's id through the registry as (expire_atom, id), so even
// expiry goes through the order's single writer.

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace flashsale {

class metrics_registry;

struct expiry_settings {
  std::string database_url;                        // DATABASE_URL
  std::chrono::milliseconds interval{1000};        // between sweeps
  std::chrono::milliseconds busy_interval{50};     // after a sweep that filled its batch
  std::size_t batch = 500;                         // due orders taken per sweep
  std::size_t max_in_flight = 5000;                // expire requests awaiting an answer
  std::chrono::milliseconds request_timeout{5000}; // an answer from the registry
  /// Whether this node owns an order (the cluster's routing table): with many nodes
  /// each sweeper expires only its own orders, so a deadline fires once (and the
  /// guarded UPDATE makes a second firing harmless anyway). Empty: every order.
  std::function<bool(const std::string& order_id)> owns;
};

/// Spawns the sweeper and registers its metrics in `metrics`, which must outlive it.
/// An id still awaiting its answer is not sent again.
caf::actor spawn_expiry_sweeper(caf::actor_system& sys, const expiry_settings& settings,
                                caf::actor registry, metrics_registry& metrics);

/// Sends the sweeper an exit message and blocks until it is gone.

} // namespace flashsale
