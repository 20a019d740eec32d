#include "actors/saga/offset_tracker.hpp"

#include <algorithm>

namespace flashsale {

void offset_tracker::assign(const partition_id& p) {
  revoke(p);
  track t;
  t.generation = next_generation_++;
  partitions_[p] = std::move(t);
}

void offset_tracker::revoke(const partition_id& p) {
  auto i = partitions_.find(p);
  if (i == partitions_.end())
    return;
  in_flight_ -= i->second.pending.size();
  partitions_.erase(i);
}

void offset_tracker::clear() {
  partitions_.clear();
  in_flight_ = 0;
}

std::optional<offset_ref> offset_tracker::consumed(const partition_id& p, std::int64_t offset) {
  auto i = partitions_.find(p);
  if (i == partitions_.end())
    return std::nullopt;
  auto& t = i->second;
  t.next = std::max(t.next, offset + 1);
  if (!t.pending.insert(offset).second)
    return std::nullopt;
  ++in_flight_;
  return offset_ref{p, offset, t.generation};
}

bool offset_tracker::done(const offset_ref& ref) {
  auto i = partitions_.find(ref.partition);
  if (i == partitions_.end() || i->second.generation != ref.generation)
    return false; // revoked meanwhile: the new owner reads it again
  if (i->second.pending.erase(ref.offset) == 0)
    return false;
  --in_flight_;
  return true;
}

bool offset_tracker::is_current(const offset_ref& ref) const {
  auto i = partitions_.find(ref.partition);
  return i != partitions_.end() && i->second.generation == ref.generation;
}

void offset_tracker::committed(const partition_id& p, std::int64_t offset) {
  auto i = partitions_.find(p);
  if (i != partitions_.end())
    i->second.committed = offset;
}

std::vector<std::pair<partition_id, std::int64_t>> offset_tracker::positions() const {
  std::vector<std::pair<partition_id, std::int64_t>> out;
  out.reserve(partitions_.size());
  for (const auto& [id, t] : partitions_)
    out.emplace_back(id, t.position());
  return out;
}

} // namespace flashsale
