#pragma once
// The order registry: maps order id -> order actor, spawns actors on demand and
// forgets them when they passivate. Every command about an existing order goes
// through here to the order's single writer.

#include "actors/order/order_actor.hpp"
#include "actors/order/order_settings.hpp"

#include <caf/fwd.hpp>

namespace flashsale {

/// Handles order_registry_api (actors/order/order_protocol.hpp): the order protocol,
/// (passivate_atom, order_id, actor) from its order actors, and (release_atom,
/// ownership_test) when shards were revoked: it stops the actors of orders this node no
/// longer owns.
order_registry_api spawn_order_registry(caf::actor_system& sys, order_ports ports,
                                        order_settings settings);

} // namespace flashsale
