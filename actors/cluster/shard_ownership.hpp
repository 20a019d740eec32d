#pragma once
// The shards this node owns and the epoch of each (DESIGN.md "Many nodes"): written by
// the saga consumer's thread as Kafka's group assigns and revokes shards and PostgreSQL
// hands out epochs; read by the HTTP layer (a create mints its id in an owned shard),
// the registry (an order actor writes under its shard's epoch), the router and the
// sweeper. Thread safe; plain, no I/O.

#include "messages/shard.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flashsale {

class shard_ownership {
public:
  /// The shard count: the partition count of the saga topics, 0 until known.
  void set_count(int count);
  int count() const;

  void acquired(int shard, std::int64_t epoch);
  void released(const std::vector<int>& shards);

  /// The order's shard (when the count is known); its fence when this node owns it.
  std::optional<int> shard_of_order(const std::string& order_id) const;
  std::optional<shard_fence> fence_of(const std::string& order_id) const;
  bool owns(const std::string& order_id) const { return fence_of(order_id).has_value(); }
  std::optional<shard_fence> fence_of_shard(int shard) const;

  /// A new order id in a shard this node owns, with that shard's fence; nullopt while
  /// it owns none. `mint` makes candidate ids (new_uuid).
  std::optional<std::pair<std::string, shard_fence>>
  mint(const std::function<std::string()>& mint) const;

  std::vector<int> owned() const;
  std::size_t owned_count() const;

  /// The group has answered once and every shard it gave has its epoch: this node
  /// takes creates (/readyz waits for it at start).
  void mark_joined();
  bool joined() const;

private:
  mutable std::mutex mtx_;
  bool joined_ = false;
  int count_ = 0;
  std::map<int, std::int64_t> epochs_;
};

} // namespace flashsale
