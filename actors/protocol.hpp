#pragma once
// The messages actors exchange: atoms and the reply types. Local-only types are
// whitelisted for CAF here, in one place; the types that cross nodes (a router
// forwarding to another node's registry) have inspect overloads instead, here and in
// actors/wire_format.hpp.

#include "actors/wire_format.hpp"
#include "messages/commands.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace flashsale {

using create_atom = caf::atom_constant<caf::atom("fs_create")>;
using write_atom = caf::atom_constant<caf::atom("fs_write")>;
using load_atom = caf::atom_constant<caf::atom("fs_load")>;
using list_atom = caf::atom_constant<caf::atom("fs_list")>;
using fetch_atom = caf::atom_constant<caf::atom("fs_fetch")>;
using cancel_atom = caf::atom_constant<caf::atom("fs_cancel")>;
using flush_atom = caf::atom_constant<caf::atom("fs_flush")>;
using passivate_atom = caf::atom_constant<caf::atom("fs_passiv")>;
using stop_atom = caf::atom_constant<caf::atom("fs_stop")>;
using probe_atom = caf::atom_constant<caf::atom("fs_probe")>;
using event_atom = caf::atom_constant<caf::atom("fs_event")>;
using expire_atom = caf::atom_constant<caf::atom("fs_expire")>;
using deadline_atom = caf::atom_constant<caf::atom("fs_dline")>;
using release_atom = caf::atom_constant<caf::atom("fs_release")>;
using idle_check_atom = caf::atom_constant<caf::atom("fs_idle")>;
/// Between nodes: (hello, node_id, gate) tells a peer which gate this node publishes.
using hello_atom = caf::atom_constant<caf::atom("fs_hello")>;
/// Local: (member, actor) tells the gate where hellos go.
using member_atom = caf::atom_constant<caf::atom("fs_member")>;
using early_atom = caf::atom_constant<caf::atom("fs_early")>;
/// (dlq_atom, order_id, event_id, event_type, body) -> bool: a held event the database
/// rejected at replay, to be copied to order.v1.dlq; true once the copy is acknowledged.
/// The saga consumer answers it and is registered under this atom in its actor system.
using dlq_atom = caf::atom_constant<caf::atom("fs_dlq")>;

/// The answer to a command about one order.
struct order_reply {
  bool ok = false;
  order value;
  api_error error;
};

/// A reply from a peer: a successful one carries a valid order, a failed one a valid error.
std::string check_peer_value(const order_reply& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_reply& x) {
  return f(caf::meta::type_name("fs_order_reply"), x.ok, x.value, x.error, checked_on_load(x));
}

/// The answer to a load from the database: found, missing, or failed.
struct load_reply {
  bool found = false;
  order value;
  bool failed = false;
  api_error error;
  bool has_early = false; // events are held for it (early_events)
};

/// The events held for an order, oldest first; failed: the database did not answer.
struct early_reply {
  bool failed = false;
  std::vector<held_event> events;
};

struct list_reply {
  bool ok = false;
  std::vector<order> orders;
  api_error error;
};

/// What became of an incoming saga event (or an expiry request).
enum class event_status {
  applied,          // the transition (and its event, and the inbox row) committed
  duplicate,        // the event id was processed before: no effect
  ignored,          // not allowed from the current state, or no transition: no effect
  payment_rejected, // a payment for an order that can no longer be paid: ORDER_PAYMENT_REJECTED
  not_found,        // no such order: no effect
  failed,           // not durable (database unavailable): deliver again later
  rejected,         // the database rejected a value of the event: no retry can cure it (DLQ)
  held,             // came before its order can take it: held durably, replayed later
};

struct event_reply {
  event_status status = event_status::failed;
  order_status current = order_status::created; // the order's status afterwards
};

/// Both enums in range.
std::string check_peer_value(const event_reply& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_reply& x) {
  return f(caf::meta::type_name("fs_event_reply"), x.status, x.current, checked_on_load(x));
}

/// Whether this node owns an order id (the cluster's routing table); the registry
/// releases the live actors of orders it no longer owns. Local only.
using ownership_test = std::function<bool(const std::string& order_id)>;

inline order_reply reply_ok(order o) {
  return {true, std::move(o), {}};
}

inline order_reply reply_error(error_code code, std::string message) {
  return {false, {}, {code, std::move(message)}};
}

} // namespace flashsale

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::create_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::create_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::write_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::write_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::list_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::load_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::list_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::early_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::ownership_test)
// order_reply, event_reply, incoming_event cross nodes: inspect overloads, registered
// in add_cluster_message_types(). order_status is no longer whitelisted either: CAF
// skips whitelisted members when it serialises a struct, which would drop the status
// from a forwarded order.
