#pragma once
// The messages actors exchange: atoms and the reply types. Local-only types are
// whitelisted for CAF here, in one place; the types that cross nodes (a router
// forwarding to another node's registry) have inspect overloads instead, here and in
// actors/wire_format.hpp.

#include "actors/cluster/wire_format.hpp"
#include "messages/commands.hpp"
#include "messages/replies.hpp"

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

/// A reply from a peer: a successful one carries a valid order, a failed one a valid error.
std::string check_peer_value(const order_reply& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_reply& x) {
  return f(caf::meta::type_name("fs_order_reply"), x.ok, x.value, x.error, checked_on_load(x));
}

/// Both enums in range.
std::string check_peer_value(const event_reply& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_reply& x) {
  return f(caf::meta::type_name("fs_event_reply"), x.status, x.current, checked_on_load(x));
}

/// Whether this node owns an order id (the cluster's routing table); the registry
/// releases the live actors of orders it no longer owns. Local only.
using ownership_test = std::function<bool(const std::string& order_id)>;

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
