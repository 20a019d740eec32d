#pragma once
// What the shards' group's rebalances mean for this node (DESIGN.md "Many nodes"), as a
// plain value: which shards wait for their epoch, which are kept after a lost session,
// which are released. shard_membership.cpp performs it (epochs in PostgreSQL, the saga
// partitions, the registry). No I/O, no Kafka, no CAF.

#include <set>
#include <vector>

namespace flashsale {

class shard_handoff {
public:
  /// The group gave `given`: they wait for their epoch (pending). Shards kept after a lost
  /// session that the group did not give back are returned: release them now.
  std::vector<int> assigned(const std::vector<int>& given);

  /// The epoch of `shard` was taken: it is no longer pending.
  void acquired(int shard) { pending_.erase(shard); }

  /// The group took `shards`. Returned: those to release now. After a lost session
  /// (`lost`, not while `closing`) the owned ones are kept (`is_owned`) and written under
  /// their epochs until the group answers again: nobody else has acquired them unless the
  /// fence says so; pending ones are dropped either way.
  template <class IsOwned>
  std::vector<int> revoked(const std::vector<int>& shards, bool lost, bool closing,
                           IsOwned is_owned) {
    std::vector<int> release;
    for (int s : shards) {
      pending_.erase(s);
      if (lost && !closing && is_owned(s))
        lost_.insert(s);
      else
        release.push_back(s);
    }
    return release;
  }

  /// Leaving the group: nothing pending, nothing kept.
  void clear() {
    pending_.clear();
    lost_.clear();
  }

  const std::set<int>& pending() const { return pending_; }
  const std::set<int>& lost() const { return lost_; }

private:
  std::set<int> pending_; // given by the group, epoch not taken yet (database down)
  std::set<int> lost_;    // kept after a lost session until the group answers again
};

} // namespace flashsale
