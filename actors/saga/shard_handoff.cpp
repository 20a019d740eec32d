#include "actors/saga/shard_handoff.hpp"

namespace flashsale {

std::vector<int> shard_handoff::assigned(const std::vector<int>& given) {
  std::set<int> in(given.begin(), given.end());
  std::vector<int> release;
  for (int s : lost_)
    if (in.count(s) == 0)
      release.push_back(s);
  lost_.clear(); // the group answered: what it gave back gets a new epoch like the rest
  pending_.insert(in.begin(), in.end());
  return release;
}

} // namespace flashsale
