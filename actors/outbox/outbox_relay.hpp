#pragma once
// The outbox relay pool (DESIGN.md "Outbox relay"): detached actors that move committed
// events from outbox_events to Kafka, at least once and in commit order per order,
// sharing the work with every other relay (in this process or any other) through
// FOR UPDATE SKIP LOCKED. Plus a janitor that deletes old SENT rows and refreshes the
// outbox gauges.

#include "actors/outbox/relay_settings.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace flashsale {

class metrics_registry;
struct outbox_gauges;

/// Spawns `relays` relay actors and (if enabled) the janitor under a supervisor, and
/// registers the outbox metrics in `metrics`, which must outlive the actors. Sending
/// the returned actor an exit message stops them all: each relay finishes its batch
/// or rolls it back. The supervisor terminates after its last child, so
/// Stop it with stop_and_wait (actors/stop.hpp), which returns when the relays are done.
/// `gauges`, when given, receives the backlog the janitor refreshes (for /readyz).
caf::actor spawn_outbox_relays(caf::actor_system& sys, const relay_settings& settings,
                               metrics_registry& metrics,
                               std::shared_ptr<const outbox_gauges>* gauges = nullptr);

} // namespace flashsale
