#pragma once
// One actor per live order: the single writer of that order. It loads its state,
// decides every transition with the pure table (messages/order_status.hpp), commits
// "guarded UPDATE + outbox INSERT" through a writer, and only then replies.

#include "actors/order/order_protocol.hpp"
#include "actors/order/order_settings.hpp"
#include "actors/cluster/shard_ownership.hpp"
#include "messages/shard.hpp"

#include <memory>

#include <caf/actor.hpp>

#include <caf/fwd.hpp>

#include <string>

namespace flashsale {

/// What an order actor talks to besides its registry, handed over in service.cpp.
struct order_ports {
  caf::actor writers; // group-commit writers (db_actors.hpp)
  caf::actor readers; // loads (db_actors.hpp)
  caf::actor dlq;     // held events the database rejects at replay (saga/held_dlq.hpp);
                      // none: such a row stays for a later replay
  /// The registry's: which orders this node owns and under which epoch. None: every
  /// order, unfenced (a single process of tests and tools).
  std::shared_ptr<const shard_ownership> shards;
};

/// `fence`: the order's shard and the epoch this node holds it under; every write of
/// the actor carries it, and a write refused as fenced ends the actor (another node
/// owns the order now).
/// It handles order_actor_api (actors/order/order_protocol.hpp) and asks `registry` to
/// passivate it when idle.
order_actor_api spawn_order_actor(caf::local_actor* parent, std::string order_id,
                                  order_registry_api registry, order_ports ports,
                                  order_settings settings, shard_fence fence = {});

} // namespace flashsale
