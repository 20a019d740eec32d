#pragma once
// Flow control of the saga consumer as a plain value: consumption pauses once
// `max_in_flight` messages are consumed and not yet handled, and resumes at half of it.
// The client may refuse a pause or resume (librdkafka returns an error); the gate then
// asks for it again on every step until it takes, since a lost resume would leave the
// partitions paused for good and a lost pause would let the bound go.

#include <cstddef>

namespace flashsale {

class flow_gate {
public:
  enum class action { none, pause, resume };

  explicit flow_gate(std::size_t max_in_flight = 0) : max_(max_in_flight) {}

  /// What the client must be asked with `in_flight` messages unhandled.
  action next(std::size_t in_flight) const {
    bool want = paused_ ? in_flight > max_ / 2 : in_flight >= max_;
    if (want == paused_ && synced_)
      return action::none;
    return want ? action::pause : action::resume;
  }

  /// The client's answer to `a` (from next()): `ok` when it took it.
  void done(action a, bool ok) {
    if (a == action::none)
      return;
    paused_ = a == action::pause;
    synced_ = ok;
  }

  /// A pause or resume refused elsewhere (a rebalance's): next() asks for it again.
  void refused() { synced_ = false; }

  /// A new client: nothing paused.
  void reset() {
    paused_ = false;
    synced_ = true;
  }

  /// Whether consumption is meant to be paused (the client may not have taken it yet).
  bool paused() const { return paused_; }

private:
  std::size_t max_;
  bool paused_ = false;
  bool synced_ = true; // the client took the last pause or resume
};

} // namespace flashsale
