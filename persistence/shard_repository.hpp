#pragma once
// Shard ownership in PostgreSQL (migration 000013, DESIGN.md "Many nodes"): the epoch
// of each shard's current owner, the fence every order write passes, and the directory
// of owners the router reads. Blocking: call only from a detached actor or a thread of
// its own.

#include "messages/shard.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
class transaction_base;
} // namespace pqxx

namespace flashsale::persistence {

/// The first key of the shards' advisory locks (the second is the shard).
inline constexpr int shard_lock_space = 0x46534f57; // "FSOW"

/// acquire_shard's refusal of one shard: the database answered, but the shard's lock
/// stays held (by a session this role may not end, or taken again after both waits).
struct shard_lock_taken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Holds the advisory lock of every fenced shard among `fences` shared until `tx` ends
/// (in ascending order, as every writer does), then reads their epochs: true at the
/// positions whose epoch is no longer the shard's. An acquisition waits for the lock
/// exclusively, so it never slips between this check and the COMMIT.
std::vector<bool> stale_fences(pqxx::transaction_base& tx, const std::vector<shard_fence>& fences);

/// Raises `shard`'s epoch for `node_id` and returns it. Waits for the writers that hold
/// the shard's lock (the previous owner's in-flight transactions) at most `wait`; a
/// writer still holding it then (a paused process mid-transaction) has its server
/// process terminated, which rolls its transaction back, and the acquisition goes on.
/// `terminated` counts those. Throws shard_lock_taken when the lock is still held after
/// that (a holder this role may not terminate: a superuser's, another role's), and
/// pqxx's exceptions on other database errors.
std::int64_t acquire_shard(pqxx::connection_base& conn, int shard, const std::string& node_id,
                           std::chrono::milliseconds wait, std::size_t* terminated = nullptr);

struct shard_owner {
  std::string node_id;
  std::int64_t epoch = 0;
};

/// Every shard's last acquirer, by shard.
std::map<int, shard_owner> read_shard_owners(pqxx::connection_base& conn);

/// Gives deadline rows written before migration 000013 their shard among `count`, at
/// most `batch` ids a statement; returns how many rows changed.
std::size_t backfill_deadline_shards(pqxx::connection_base& conn, int count, std::size_t batch);

} // namespace flashsale::persistence
