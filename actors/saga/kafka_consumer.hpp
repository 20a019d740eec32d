#pragma once
// The Kafka bridge (DESIGN.md "Saga consumer"): a detached actor that joins the shards'
// group (shard_membership.hpp) and reads the partitions of inventory.v1.events and
// payment.v1.events of the shards this node owns, routes every
// decodable event to its order through the registry, copies poison messages to
// order.v1.dlq, and commits an offset only once every message before it is handled.
//
// Messages of different orders are in flight concurrently; one order's messages go to
// the registry one at a time, in the order they were consumed, so a retried message is
// never overtaken by a later one of the same order.

#include "actors/saga/consumer_ports.hpp"
#include "actors/saga/consumer_settings.hpp"
#include "actors/saga/shard_membership.hpp"

#include <caf/fwd.hpp>

namespace flashsale {

class metrics_registry;

/// Spawns the bridge and registers its metrics in `metrics`, which must outlive it.
/// Stop it with stop_and_wait (actors/stop.hpp): it commits what is done and leaves the group.
/// Events go to `router`; `shards` is this node's ownership, which it keeps.
caf::actor spawn_kafka_consumer(caf::actor_system& sys, const consumer_settings& settings,
                                order_api router, shard_ports shards,
                                metrics_registry& metrics);

/// The same consumer over other ports (consumer_ports.hpp), as an event-based actor on
/// the system's scheduler: for the actor tests, whose stub ports never block.
caf::actor spawn_saga_consumer_on_ports(caf::actor_system& sys, const consumer_settings& settings,
                                        order_api router, shard_ports shards,
                                        consumer_ports ports, metrics_registry& metrics);

} // namespace flashsale
