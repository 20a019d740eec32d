#include "actors/cluster/shard_ownership.hpp"

namespace flashsale {

void shard_ownership::set_count(int count) {
  std::lock_guard<std::mutex> guard{mtx_};
  count_ = count;
}

int shard_ownership::count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return count_;
}

void shard_ownership::acquired(int shard, std::int64_t epoch) {
  std::lock_guard<std::mutex> guard{mtx_};
  epochs_[shard] = epoch;
}

void shard_ownership::released(const std::vector<int>& shards) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (int s : shards)
    epochs_.erase(s);
}

std::optional<int> shard_ownership::shard_of_order(const std::string& order_id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (count_ <= 0)
    return std::nullopt;
  return shard_of(order_id, count_);
}

std::optional<shard_fence> shard_ownership::fence_of(const std::string& order_id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (count_ <= 0)
    return std::nullopt;
  int s = shard_of(order_id, count_);
  auto i = epochs_.find(s);
  if (i == epochs_.end())
    return std::nullopt;
  return shard_fence{s, i->second};
}

std::optional<shard_fence> shard_ownership::fence_of_shard(int shard) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = epochs_.find(shard);
  if (i == epochs_.end())
    return std::nullopt;
  return shard_fence{shard, i->second};
}

std::optional<std::pair<std::string, shard_fence>>
shard_ownership::mint(const std::function<std::string()>& mint) const {
  std::map<int, std::int64_t> epochs;
  int count = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (count_ <= 0 || epochs_.empty())
      return std::nullopt;
    epochs = epochs_;
    count = count_;
  }
  auto id = mint_in_shards(mint, count, [&](int s) { return epochs.count(s) > 0; });
  if (!id)
    return std::nullopt;
  int s = shard_of(*id, count);
  return std::make_pair(std::move(*id), shard_fence{s, epochs.at(s)});
}

std::vector<int> shard_ownership::owned() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<int> out;
  for (const auto& [s, e] : epochs_)
    out.push_back(s);
  return out;
}

std::size_t shard_ownership::owned_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return epochs_.size();
}

void shard_ownership::mark_joined() {
  std::lock_guard<std::mutex> guard{mtx_};
  joined_ = true;
}

bool shard_ownership::joined() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return joined_;
}

} // namespace flashsale
