#pragma once
// One actor per live order: the single writer of that order. It loads its state,
// decides every transition with the pure table (messages/order_status.hpp), commits
// "guarded UPDATE + outbox INSERT" through a writer, and only then replies.

#include "actors/order/order_settings.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace flashsale {

/// Handles (answered with order_reply):
///   (fetch_atom, std::string order_id)
///   (cancel_atom, std::string order_id, std::string reason, std::string user_id,
///    std::string traceparent)
/// and (stop_atom) from the registry after it asked to passivate.
caf::actor spawn_order_actor(caf::local_actor* parent, std::string order_id,
                             caf::actor registry, caf::actor writers, caf::actor readers,
                             order_settings settings);

} // namespace flashsale
