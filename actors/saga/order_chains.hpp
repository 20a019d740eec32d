#pragma once
// The saga consumer's per-order chains (DESIGN.md "Saga consumer"): events of
// different orders are in flight at once, one order's events go out one at a time in
// the order they were consumed, so a retried event is never overtaken by a later one of
// its order. Plus the bound on events out at once. No I/O.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace flashsale {

template <class Work>
class order_chains {
public:
  /// Appends to the order's chain; true when it is the chain's front (send it now).
  bool append(const std::string& order, Work w) {
    auto& chain = chains_[order];
    chain.push_back(std::move(w));
    return chain.size() == 1;
  }

  /// The order's front, after dropping the front events `stale` accepts; nullptr (and
  /// the chain forgotten) when none is left.
  template <class Stale>
  Work* ready_front(const std::string& order, Stale stale) {
    auto i = chains_.find(order);
    if (i == chains_.end())
      return nullptr;
    auto& chain = i->second;
    while (!chain.empty() && stale(chain.front()))
      chain.pop_front();
    if (chain.empty()) {
      chains_.erase(i);
      return nullptr;
    }
    return &chain.front();
  }

  /// The order's front as it is, or nullptr.
  Work* front(const std::string& order) {
    auto i = chains_.find(order);
    return i == chains_.end() || i->second.empty() ? nullptr : &i->second.front();
  }

  /// Takes the order's front out of its chain (it is done); the next event of the
  /// order becomes the front. The chain must have a front.
  Work take_front(const std::string& order) {
    auto& chain = chains_.at(order);
    auto w = std::move(chain.front());
    chain.pop_front();
    return w;
  }

  /// Drops the waiting (non-front) events `pred` accepts; a front may be out already
  /// and is left to its answer.
  template <class Pred>
  void drop_waiting_if(Pred pred) {
    for (auto& [order, chain] : chains_)
      if (chain.size() > 1)
        chain.erase(std::remove_if(chain.begin() + 1, chain.end(), pred), chain.end());
  }

  /// Drops every waiting (non-front) event, and the fronts `keep` rejects; chains
  /// left empty are forgotten.
  template <class Keep>
  void keep_fronts_if(Keep keep) {
    for (auto i = chains_.begin(); i != chains_.end();) {
      auto& chain = i->second;
      if (chain.size() > 1)
        chain.erase(chain.begin() + 1, chain.end());
      if (!chain.empty() && !keep(chain.front()))
        chain.clear();
      i = chain.empty() ? chains_.erase(i) : std::next(i);
    }
  }

  /// Events in the order's chain.
  std::size_t length(const std::string& order) const {
    auto i = chains_.find(order);
    return i == chains_.end() ? 0 : i->second.size();
  }

  /// Orders with a chain.
  std::size_t orders() const { return chains_.size(); }

  void clear() { chains_.clear(); }

private:
  std::unordered_map<std::string, std::deque<Work>> chains_;
};

/// At most `limit` events out at once; orders beyond wait in arrival order.
class dispatch_slots {
public:
  explicit dispatch_slots(std::size_t limit = 0) : limit_(limit) {}

  void set_limit(std::size_t limit) { limit_ = limit; }

  /// Takes a slot for the order's front, or queues the order and returns false.
  bool acquire(const std::string& order) {
    if (taken_ >= limit_) {
      waiting_.push_back(order);
      return false;
    }
    ++taken_;
    return true;
  }

  /// Gives back a slot (an answer came).
  void release() {
    if (taken_ > 0)
      --taken_;
  }

  /// The next queued order when a slot is free (it then asks with acquire()).
  std::optional<std::string> next_waiting() {
    if (taken_ >= limit_ || waiting_.empty())
      return std::nullopt;
    auto order = std::move(waiting_.front());
    waiting_.pop_front();
    return order;
  }

  std::size_t taken() const { return taken_; }
  void clear_waiting() { waiting_.clear(); }

private:
  std::size_t limit_;
  std::size_t taken_ = 0;
  std::deque<std::string> waiting_;
};

} // namespace flashsale
