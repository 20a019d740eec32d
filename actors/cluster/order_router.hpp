#pragma once
// The order router (DESIGN.md "Many nodes"): stands in front of the local registry and
// speaks its protocol. For a command about order X it asks the routing table for X's
// owner; this node's orders go to the local registry, another node's to that node's
// registry through CAF's middleman, answered back through here. When the owner does
// not answer within `forward_timeout` (it died, or its connection broke) the local
// registry handles the command: the guarded UPDATE and the inbox keep the data correct
// while two nodes briefly write one order.

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace flashsale {

class cluster_view;
class metrics_registry;

struct router_settings {
  std::chrono::milliseconds forward_timeout{13000}; // time_budgets::forward (app/config.hpp)
  /// A forwarded read waits at most this long before this node answers it itself. A
  /// read changes nothing, so answering it here is never a second writer, and it must
  /// beat the HTTP bridge's own deadline: a connection to a peer can stay silent for
  /// seconds before it is known dead (seen after a peer's SIGKILL), and a read that
  /// waited the whole write budget would reach its client as 503.
  std::chrono::milliseconds read_timeout{4000}; // time_budgets::forward_read
};

/// Handles what the registry handles (fetch, cancel, event, expire; see
/// order_registry.hpp) with the same replies. `metrics` must outlive it.
caf::actor spawn_order_router(caf::actor_system& sys, caf::actor registry,
                              std::shared_ptr<const cluster_view> view, router_settings settings,
                              metrics_registry& metrics);

} // namespace flashsale
