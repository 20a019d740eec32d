#pragma once
// The saga consumer's offsets (DESIGN.md "Saga consumer"): messages of one partition
// are handled out of order, and the committable position of a partition is its lowest
// offset still pending (or one past the highest consumed when none is), so a restart
// resumes at the first message not yet durably handled. No I/O.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace flashsale {

using partition_id = std::pair<std::string, std::int32_t>; // topic, partition

/// Where a consumed message came from; stale once its partition is revoked (every
/// assignment of a partition has a generation of its own).
struct offset_ref {
  partition_id partition;
  std::int64_t offset = 0;
  std::uint64_t generation = 0;
};

class offset_tracker {
public:
  /// Starts tracking a newly assigned partition (forgetting anything known of it).
  void assign(const partition_id& p);

  /// Forgets a revoked partition and its pending offsets.
  void revoke(const partition_id& p);

  /// Forgets everything.
  void clear();

  /// Records a consumed message: its reference when it is now pending, nothing when
  /// the partition is not assigned or the offset is pending already.
  std::optional<offset_ref> consumed(const partition_id& p, std::int64_t offset);

  /// Records a handled message; false when it was not pending (or is stale).
  bool done(const offset_ref& ref);

  /// Whether `ref` belongs to the current assignment of its partition.
  bool is_current(const offset_ref& ref) const;

  bool assigned(const partition_id& p) const { return partitions_.count(p) > 0; }

  /// Pending offsets over all partitions.
  std::size_t in_flight() const { return in_flight_; }

  /// The position to commit for every partition `wanted` accepts that moved since its
  /// last commit.
  template <class Wanted>
  std::vector<std::pair<partition_id, std::int64_t>> committable(Wanted wanted) const {
    std::vector<std::pair<partition_id, std::int64_t>> out;
    for (const auto& [id, t] : partitions_)
      if (wanted(id) && t.position() > t.committed)
        out.emplace_back(id, t.position());
    return out;
  }

  /// Records a successful commit of `offset` for `p`.
  void committed(const partition_id& p, std::int64_t offset);

  /// Every assigned partition with its position (-1 when nothing was consumed yet).
  std::vector<std::pair<partition_id, std::int64_t>> positions() const;

private:
  struct track {
    std::uint64_t generation = 0;
    std::set<std::int64_t> pending;
    std::int64_t next = -1;      // one past the highest offset consumed
    std::int64_t committed = -1; // the last position committed
    std::int64_t position() const { return pending.empty() ? next : *pending.begin(); }
  };

  std::map<partition_id, track> partitions_;
  std::uint64_t next_generation_ = 1;
  std::size_t in_flight_ = 0;
};

} // namespace flashsale
