#pragma once
// The order protocol as typed CAF handles, so that the compiler checks every hop a
// command about one order takes: the HTTP bridge, the saga consumer and the sweeper ask
// the router, the router (and the cluster gate, for a peer) asks the registry, the
// registry hands the command to the order's actor. A message or a reply of the wrong
// type at any of these hops is a compile error, not a dropped message at run time.
//
// The one hop that stays dynamically typed is a peer's gate (actors/cluster): it is the
// network boundary, published to other processes, and it answers anything else a peer
// sends with a logged rejection (actors/cluster/cluster_gate.hpp) after checking every
// value as HTTP and Kafka input is checked.

#include "actors/protocol.hpp"
#include "messages/order_status.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>

namespace flashsale {

/// The four commands about one order and their replies:
///   (fetch_atom, order_id) -> order_reply
///   (cancel_atom, order_id, reason, user_id, traceparent) -> order_reply
///   (event_atom, incoming_event) -> event_reply          (a saga event from Kafka)
///   (expire_atom, order_id) -> event_reply   (apply the deadline of the order's current
///                                             state if it has passed)
using order_api = caf::typed_actor<
  caf::replies_to<fetch_atom, std::string>::with<order_reply>,
  caf::replies_to<cancel_atom, std::string, std::string, std::string, std::string>::with<
    order_reply>,
  caf::replies_to<event_atom, incoming_event>::with<event_reply>,
  caf::replies_to<expire_atom, std::string>::with<event_reply>>;

/// One order's actor: the protocol, plus its own timers (a deadline armed for a status,
/// the idle check) and the registry's stop after it asked to passivate.
using order_actor_api = order_api::extend<caf::reacts_to<deadline_atom, order_status>,
                                          caf::reacts_to<idle_check_atom>,
                                          caf::reacts_to<stop_atom>>;

/// Told to stop the live actors of orders this node no longer owns (shards revoked).
using release_api = caf::typed_actor<caf::reacts_to<release_atom, ownership_test>>;

/// The registry: the protocol, an order actor's request to passivate, and releases.
using order_registry_api =
  order_api::extend<caf::reacts_to<passivate_atom, std::string, order_actor_api>,
                    caf::reacts_to<release_atom, ownership_test>>;

} // namespace flashsale
