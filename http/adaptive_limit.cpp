#include "http/adaptive_limit.hpp"

#include <algorithm>
#include <cmath>

namespace flashsale::http {

adaptive_limit::adaptive_limit(adaptive_limit_settings settings, int ceiling)
  : s_(settings), ceiling_(std::max(1, ceiling)),
    floor_limit_(std::clamp(settings.min_limit, 1, ceiling_)),
    limit_(settings.initial_limit > 0 ? std::clamp(settings.initial_limit, floor_limit_, ceiling_)
                                      : ceiling_) {}

bool adaptive_limit::sample(std::chrono::nanoseconds latency, time_point now, int in_flight) {
  if (!open_) {
    open_ = true;
    start_ = now;
  }
  sum_s_ += std::chrono::duration<double>(latency).count();
  ++count_;
  max_in_flight_ = std::max(max_in_flight_, in_flight);
  if (count_ < s_.window_min_samples || now - start_ < s_.window)
    return false;
  int before = limit();
  judge();
  return limit() != before;
}

void adaptive_limit::judge() {
  double recent = sum_s_ / count_;
  bool busy = 2 * max_in_flight_ >= limit(); // an idle service proves nothing about more
  open_ = false;
  sum_s_ = 0;
  count_ = 0;
  max_in_flight_ = 0;
  learn_baseline(recent, busy);

  double floor_s = std::chrono::duration<double>(s_.floor).count();
  double allowed = std::max(s_.tolerance * baseline_s_, floor_s);
  double gradient = recent > 0 ? std::clamp(allowed / recent, s_.min_gradient, 1.0) : 1.0;
  if (gradient >= 1.0 && !busy)
    return;
  double headroom = gradient >= 1.0 ? std::sqrt(limit_) : 0.0;
  double wanted = limit_ * gradient + headroom;
  limit_ = std::clamp(limit_ + s_.smoothing * (wanted - limit_), double(floor_limit_),
                      double(ceiling_));
}

// The baseline is the latency without a queue. A window at the limit measures the queue
// too: were the baseline to follow it up, the limit would drift to the ceiling under a
// sustained overload (the known weakness of a plain long-run average). So it rises only
// from windows well under the limit, slowly, or at the minimum limit, where the queue is
// as short as it may be: what is measured there is the service's own latency (a slower
// disk, a busier machine), and a baseline that ignored it would hold the limit at the
// minimum for good. It falls fast, halfway per window.
void adaptive_limit::learn_baseline(double recent, bool busy) {
  if (baseline_s_ <= 0)
    baseline_s_ = recent;
  else if (recent < baseline_s_ || limit() <= floor_limit_)
    baseline_s_ = (baseline_s_ + recent) / 2;
  else if (!busy)
    baseline_s_ += (recent - baseline_s_) / s_.baseline_windows;
}

} // namespace flashsale::http
