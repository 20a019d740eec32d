#pragma once
// The actors of the outbox relay pool (actors/outbox_relay.hpp): each relay, the
// janitor and the supervisor that restarts them.

#include "actors/outbox/outbox_metrics.hpp"
#include "actors/outbox/outbox_relay.hpp"

#include <caf/fwd.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace flashsale {

/// One detached relay actor, the `index`-th of its pool.
caf::actor spawn_outbox_relay(caf::actor_system& sys, const relay_settings& settings,
                              std::size_t index, const relay_metrics& metrics);

/// The detached janitor: deletes old SENT rows and refreshes `gauges`.
caf::actor spawn_outbox_janitor(caf::actor_system& sys, const relay_settings& settings,
                                std::shared_ptr<outbox_gauges> gauges);

/// Watches the actors `factories` make: restarts one that died unexpectedly, and on an
/// exit message stops them all and terminates after the last one.
caf::actor spawn_outbox_supervisor(caf::actor_system& sys,
                                   std::vector<std::function<caf::actor()>> factories);

} // namespace flashsale
