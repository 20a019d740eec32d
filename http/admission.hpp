#pragma once
// CONTRACT §3 "Overload": at most `limit` order requests in flight in this process, from
// the moment one is taken until its answer is given; beyond that a request is refused at
// once (503 UNAVAILABLE, Retry-After) instead of queueing in actor mailboxes. The limit is
// HTTP_MAX_IN_FLIGHT (HTTP_ADMISSION=static) or follows the measured latency under it as
// a ceiling (adaptive, http/adaptive_limit.hpp).

#include "http/adaptive_limit.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

namespace flashsale::http {

class admission {
public:
  using clock = std::chrono::steady_clock;

  /// A static bound: `ceiling` places.
  explicit admission(int ceiling) : limit_(ceiling) {}
  /// A bound that adapts within [min, ceiling].
  admission(int ceiling, const adaptive_limit_settings& adaptive)
    : limit_(0), adaptive_(std::in_place, adaptive, ceiling) {
    limit_ = adaptive_->limit();
  }

  /// Takes a place when one is free; the caller gives it back with leave(). A refusal
  /// costs two atomic operations, nothing more.
  bool try_enter() {
    if (in_flight_.fetch_add(1, std::memory_order_relaxed) < limit_.load(std::memory_order_relaxed))
      return true;
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  /// Gives the place back without a measure (the request was never answered).
  void leave() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  /// Gives the place back, the request answered after `latency` in flight.
  void leave(std::chrono::nanoseconds latency) {
    int was = in_flight_.fetch_sub(1, std::memory_order_relaxed);
    if (!adaptive_)
      return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (adaptive_->sample(latency, clock::now(), was))
      limit_.store(adaptive_->limit(), std::memory_order_relaxed);
  }
  int in_flight() const { return in_flight_.load(); }
  int limit() const { return limit_.load(std::memory_order_relaxed); }

private:
  std::atomic<int> limit_;
  std::atomic<int> in_flight_{0};
  std::mutex mutex_; // the samples of the Pistache and CAF threads, one at a time
  std::optional<adaptive_limit> adaptive_;
};

} // namespace flashsale::http
