#pragma once
// An order's shard (CONTRACT §5, §7; DESIGN.md "Many nodes"): the partition Kafka's
// Java client gives its key by default, murmur2 of the order id's text, made positive,
// modulo the partition count. The node whose consumer holds that partition owns the
// order. Plain functions, no I/O.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

/// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `key`'s bytes.
std::int32_t kafka_murmur2(std::string_view key);

/// The partition the Java client's default partitioner gives `key` among `count`
/// partitions; `count` must be positive.
int shard_of(std::string_view key, int count);

/// Who may write an order at one moment: its shard and the epoch its owner acquired
/// it under (PostgreSQL's shard_owners). A write whose epoch is no longer the shard's
/// is refused in the writing transaction. shard < 0: no fence (tools and tests only).
struct shard_fence {
  int shard = -1;
  std::int64_t epoch = 0;
  bool fenced() const { return shard >= 0; }
};

/// A new order id (`mint`, e.g. new_uuid) whose shard among `count` satisfies `owned`,
/// trying at most `attempts` ids; nullopt when none did (this node owns too few shards
/// or none). With n of `count` shards owned, a try succeeds with probability n/count.
std::optional<std::string> mint_in_shards(const std::function<std::string()>& mint, int count,
                                          const std::function<bool(int)>& owned,
                                          int attempts = 4096);

} // namespace flashsale
