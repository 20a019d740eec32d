#pragma once
// How the messages that cross nodes are serialised (CAF 0.17 `inspect` overloads):
// the commands a router forwards to another node's registry and their replies
// (DESIGN.md "Many nodes"). Enums travel as their underlying integer (CAF's default).
// Every type here is registered with add_cluster_message_types(); the names are the
// wire protocol between nodes, so they change only together with every node.
// What a peer sends is input like any other (CONTRACT §7): every value that arrives is
// checked while it is loaded (enum ranges, sizes, ids); a value that fails makes the
// whole message fail to deserialise, and CAF drops it (a forwarded request then times
// out and the router handles it locally). Commands from peers are checked by the
// cluster gate (actors/cluster_gate.hpp) with the check_peer_* functions below.

#include "messages/api_error.hpp"
#include "messages/create_order.hpp"
#include "messages/events.hpp"
#include "messages/order.hpp"

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace caf {
class actor_system_config;
}

namespace flashsale {

/// Bounds on what a peer may send that no input of ours bounds: an error's message
/// (the HTTP body limit) and a node id. Everything else is bounded by
/// messages/validation.hpp, exactly as HTTP and Kafka input is.
constexpr std::size_t peer_max_text = 64 * 1024;
constexpr std::size_t peer_max_node_id = 128; // NODE_ID

/// Each returns an empty string when `x` is acceptable from a peer, else what is wrong.
/// Orders, items, events and cancels are judged by messages/validation.hpp, the
/// judgement the HTTP parser and the Kafka decoder apply: what a node accepts and
/// forwards, its peer accepts (issue 22).
std::string check_peer_value(const api_error& x);
std::string check_peer_value(const order_item& x);
std::string check_peer_value(const order& x);
/// check_incoming_event, and a type the consumer routes (it skips unknown types).
std::string check_peer_value(const incoming_event& x);
/// A command's order id: a canonical lower-case UUID.
std::string check_peer_order_id(const std::string& id);
/// A forwarded cancel: check_cancel, and an empty or valid traceparent.
std::string check_peer_cancel(const std::string& id, const std::string& reason,
                              const std::string& user_id, const std::string& traceparent);

/// The load step of every inspect overload below: a failed check fails the load.
caf::error peer_value_error(const std::string& what);

template <class T>
auto checked_on_load(const T& x) {
  return caf::meta::load_callback([&x]() -> caf::error {
    auto what = check_peer_value(x);
    return what.empty() ? caf::error{} : peer_value_error(what);
  });
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_error& x) {
  return f(caf::meta::type_name("fs_api_error"), x.code, x.message, checked_on_load(x));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_item& x) {
  return f(caf::meta::type_name("fs_order_item"), x.sku_id, x.quantity, x.price,
           checked_on_load(x));
}

/// CAF 0.17 cannot serialise std::optional: the deadline travels as a flag and a value,
/// turned back into the optional once both are loaded. The order itself is checked by
/// the reply that carries it (an unsuccessful reply carries an empty order).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order& x) {
  bool has_deadline = x.expired_at.has_value();
  std::int64_t deadline = x.expired_at.value_or(0);
  auto restore = caf::meta::load_callback([&]() -> caf::error {
    x.expired_at = has_deadline ? std::optional<std::int64_t>{deadline} : std::nullopt;
    if (x.items.size() > max_items)
      return peer_value_error("more than " + std::to_string(max_items) + " items");
    return caf::none;
  });
  return f(caf::meta::type_name("fs_order"), x.id, x.user_id, x.status, x.currency, x.total_amount,
           x.items, x.created_at, x.updated_at, has_deadline, deadline, x.reason, restore);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, incoming_event& x) {
  return f(caf::meta::type_name("fs_incoming_event"), x.event_id, x.event_type, x.order_id,
           x.payment_intent_id, x.reason, x.occurred_at_ms, x.traceparent, checked_on_load(x));
}

/// Registers the types above that appear at the top level of cross-node messages.
void add_cluster_message_types(caf::actor_system_config& cfg);

} // namespace flashsale
