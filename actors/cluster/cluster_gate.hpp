#pragma once
// What this node publishes to its peers (DESIGN.md "Many nodes", CONTRACT §7): a gate in
// front of the order registry. It takes only the four commands a router forwards
// (fetch, cancel, event, expire), checks every value in them as HTTP and Kafka input is
// checked (actors/wire_format.hpp), and hands the valid ones to the registry. Anything
// else a peer could send the registry (passivate, release, stop…) never reaches it.
// It also takes a peer's hello (the gate that peer publishes, sent by the node that
// dialled, actors/cluster.cpp) and hands it to the membership actor.

#include "actors/order/order_protocol.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace flashsale {

/// The gate lives and dies with `registry`. It stays dynamically typed: a peer may send
/// anything, and anything but the four commands is rejected with a log line.
caf::actor spawn_cluster_gate(caf::actor_system& sys, order_api registry);

} // namespace flashsale
