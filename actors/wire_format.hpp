#pragma once
// How the messages that cross nodes are serialised (CAF 0.17 `inspect` overloads):
// the commands a router forwards to another node's registry and their replies
// (DESIGN.md "Many nodes"). Enums travel as their underlying integer (CAF's default).
// Every type here is registered with add_cluster_message_types(); the names are the
// wire protocol between nodes, so they change only together with every node.

#include "messages/api_error.hpp"
#include "messages/events.hpp"
#include "messages/order.hpp"

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

#include <cstdint>
#include <optional>

namespace caf {
class actor_system_config;
}

namespace flashsale {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_error& x) {
  return f(caf::meta::type_name("fs_api_error"), x.code, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_item& x) {
  return f(caf::meta::type_name("fs_order_item"), x.sku_id, x.quantity, x.price);
}

/// CAF 0.17 cannot serialise std::optional: the deadline travels as a flag and a value,
/// turned back into the optional once both are loaded.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order& x) {
  bool has_deadline = x.expired_at.has_value();
  std::int64_t deadline = x.expired_at.value_or(0);
  auto restore = caf::meta::load_callback([&]() -> caf::error {
    x.expired_at = has_deadline ? std::optional<std::int64_t>{deadline} : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("fs_order"), x.id, x.user_id, x.status, x.currency, x.total_amount,
           x.items, x.created_at, x.updated_at, has_deadline, deadline, x.reason, restore);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incoming_event& x) {
  return f(caf::meta::type_name("fs_incoming_event"), x.event_id, x.event_type, x.order_id,
           x.payment_intent_id, x.reason, x.occurred_at_ms);
}

/// Registers the types above that appear at the top level of cross-node messages.
void add_cluster_message_types(caf::actor_system_config& cfg);

} // namespace flashsale
