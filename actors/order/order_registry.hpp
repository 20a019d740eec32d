#pragma once
// The order registry: maps order id -> order actor, spawns actors on demand and
// forgets them when they passivate. Every command about an existing order goes
// through here to the order's single writer.

#include "actors/order/order_settings.hpp"

#include <caf/fwd.hpp>

namespace flashsale {

/// Handles:
///   (fetch_atom, std::string order_id) -> order_reply
///   (cancel_atom, std::string order_id, std::string reason, std::string user_id,
///    std::string traceparent)
///     -> order_reply
///   (event_atom, incoming_event) -> event_reply   (saga events from Kafka)
///   (expire_atom, std::string order_id) -> event_reply (the sweeper: apply the
///     deadline of the order's current state if it has passed)
///   (passivate_atom, std::string order_id, caf::actor) from its order actors.
///   (release_atom, ownership_test) from the cluster member: stop the actors of orders
///     this node no longer owns.
caf::actor spawn_order_registry(caf::actor_system& sys, caf::actor writers, caf::actor readers,
                                order_settings settings);

} // namespace flashsale
