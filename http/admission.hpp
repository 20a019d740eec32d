#pragma once
// CONTRACT §3 "Overload": at most `limit` order requests in flight in this process, from
// the moment one is taken until its answer is given; beyond that a request is refused at
// once (503 UNAVAILABLE, Retry-After) instead of queueing in actor mailboxes.

#include <atomic>
#include <memory>

namespace flashsale::http {

class admission {
public:
  explicit admission(int limit) : limit_(limit) {}

  /// Takes a place when one is free; the caller gives it back with leave().
  bool try_enter() {
    if (in_flight_.fetch_add(1) < limit_)
      return true;
    --in_flight_;
    return false;
  }
  void leave() { --in_flight_; }
  int in_flight() const { return in_flight_.load(); }
  int limit() const { return limit_; }

private:
  const int limit_;
  std::atomic<int> in_flight_{0};
};

} // namespace flashsale::http
