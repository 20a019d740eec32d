#pragma once
// Adaptive admission (issue 20 item 3): the bound on order requests in flight follows
// their measured latency instead of a hand-set number, so that the same binary keeps its
// latency on a small box and admits more on a large one. The idea is the gradient of
// Netflix's concurrency-limits (Gradient2): compare the recent latency with a long-run
// baseline; while they agree the limit grows by a little headroom, when the recent one
// rises above `tolerance` times the baseline the limit shrinks in proportion. Latencies
// under `floor` never shrink it (a rise from 3 to 6 ms is of no matter to a buyer).
// HTTP_MAX_IN_FLIGHT stays the ceiling. Pure and single-threaded: http/admission.hpp
// serialises the samples; time is passed in, so that recorded series replay exactly.

#include <chrono>

namespace flashsale::http {

struct adaptive_limit_settings {
  bool enabled = true;                     // HTTP_ADMISSION: adaptive, or static (HTTP_MAX_IN_FLIGHT)
  int min_limit = 16;                      // HTTP_ADMISSION_MIN: never below
  int initial_limit = 0;                   // where it starts; 0: the ceiling (as the static bound)
  double tolerance = 2.0;                  // recent/baseline latency before shrinking
  std::chrono::milliseconds floor{50};     // HTTP_ADMISSION_FLOOR_MS: mean latencies that never shrink it
  std::chrono::milliseconds window{100};   // HTTP_ADMISSION_WINDOW_MS: one judgement per window
  int window_min_samples = 10;             // ... holding at least this many answers
  double baseline_windows = 100;           // the baseline rises over about this many windows
  double smoothing = 0.2;                  // share of a new judgement taken at once
  double min_gradient = 0.5;               // the most one window may cut, as a factor
};

class adaptive_limit {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// `ceiling` is HTTP_MAX_IN_FLIGHT; the limit stays within [min(min_limit, ceiling), ceiling].
  adaptive_limit(adaptive_limit_settings settings, int ceiling);

  /// One answered request: how long it was in flight, when it ended, and how many were in
  /// flight at that moment (it included). Returns true when the limit changed.
  bool sample(std::chrono::nanoseconds latency, time_point now, int in_flight);

  int limit() const { return static_cast<int>(limit_); }
  /// The long-run latency the recent one is compared with, in seconds (0 before any).
  double baseline_s() const { return baseline_s_; }

private:
  void judge();
  void learn_baseline(double recent, bool busy);

  adaptive_limit_settings s_;
  int ceiling_;
  int floor_limit_;
  double limit_;
  double baseline_s_ = 0;
  // The current window.
  bool open_ = false;
  time_point start_{};
  double sum_s_ = 0;
  int count_ = 0;
  int max_in_flight_ = 0;
};

} // namespace flashsale::http
