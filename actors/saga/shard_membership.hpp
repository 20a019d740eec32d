#pragma once
// Shard ownership by Kafka's consumer group (DESIGN.md "Many nodes"), run in the saga
// consumer's thread: a second client joins the shards' group (cooperative-sticky,
// static membership when NODE_ID is given) on the first saga topic, whose partitions
// are the shards, and never reads it. When the group assigns shards, this node raises
// each one's epoch in PostgreSQL (waiting for, or ending, the previous owner's
// in-flight writes), publishes it in shard_ownership, and only then starts reading the
// shard's partitions of every saga topic from their committed offsets. When the group
// revokes shards, it commits what is done in them (unless they were lost), stops
// reading them, forgets their queued events, and has the registry stop their actors.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "actors/order/order_protocol.hpp"

#include <caf/actor.hpp>

namespace flashsale {

namespace kafka {
struct topic_partition;
}

struct consumer_state;
class shard_ownership;
class metrics_registry;

/// What the consumer needs for ownership besides its settings.
struct shard_ports {
  std::shared_ptr<shard_ownership> ownership;
  release_api registry; // told to release the actors of revoked shards
};

/// Makes the membership client and learns the shard count; false while either fails.
bool ensure_membership(consumer_state& st);

/// Serves the group's rebalances (no message is ever read) and takes the epochs of
/// shards assigned while the database did not answer.
void poll_membership(consumer_state& st);

/// Leaves the shards' group: every shard is revoked first (committed, released).
void close_membership(consumer_state& st);

/// What close_membership does around its client: `close_client` closes the shards'
/// client, which revokes (through on_shards_revoked) the shards it holds; the shards still
/// owned after it (a close librdkafka refused, shards kept after a lost session) are then
/// revoked as lost: nothing of them is committed, all are released. The actor tests'
/// membership (test/actor/saga_consumer_stubs.hpp) closes through it too.
void leave_shards_group(consumer_state& st, const std::function<void()>& close_client);

/// Takes the epochs of the shards still pending (given while the database did not
/// answer); those it still cannot take wait for the next step. poll_membership's first
/// act; the actor tests' membership polls through it too.
void retry_pending(consumer_state& st);

/// The saga partitions of the owned shards, to add to a new data client.
void reassign_owned(consumer_state& st);

/// Raises `shard`'s epoch in PostgreSQL for this node (persistence::acquire_shard over
/// the consumer's epochs session): the new epoch; `ended` counts the previous owner's
/// transactions it ended. Throws when the database does not answer. The service's
/// saga_membership::take_epoch (consumer_ports.cpp).
std::int64_t take_shard_epoch(consumer_state& st, int shard, std::size_t& ended);

/// The group gave `parts` (partitions of the shards' topic, one a shard): shards kept
/// after a lost session that it did not give back are released; every given one gets a
/// new epoch (saga_membership::take_epoch; one the database does not take waits for the
/// next step) and is then read from its committed offsets. Returns true (the shards'
/// topic stays paused). The shards' client's assign handler; the actor tests'
/// membership calls it too.
bool on_shards_assigned(consumer_state& st, const std::vector<kafka::topic_partition>& parts);

/// The group took `parts` (partitions of the shards' topic, one a shard; `lost`: this
/// member's session expired): commits what is done in their saga partitions unless
/// lost, stops reading them, forgets their queued events and unsent DLQ copies, and
/// releases their actors (lost ones stay owned until the group answers again,
/// shard_handoff.hpp). The shards' client's revoke handler; the actor tests' membership
/// (test/actor/saga_consumer_stubs.hpp) calls it too.
void on_shards_revoked(consumer_state& st, const std::vector<kafka::topic_partition>& parts,
                       bool lost);

} // namespace flashsale
