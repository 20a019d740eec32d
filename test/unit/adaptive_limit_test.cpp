#include "http/adaptive_limit.hpp"
#include "http/admission.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using flashsale::http::adaptive_limit;
using flashsale::http::adaptive_limit_settings;
using flashsale::http::admission;

namespace {

constexpr int ceiling = 256;

/// Replays a recorded series: `window_latencies[i]` is the latency of every answer in the
/// i-th window of 100 ms (20 answers each), the service as busy as `busy(limit)` says.
/// Returns the limit after each window.
template <class Busy>
std::vector<int> replay(adaptive_limit& limit, const std::vector<std::chrono::microseconds>& series,
                        Busy busy) {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  std::vector<int> after;
  for (auto latency : series) {
    for (int i = 0; i < 20; ++i) {
      now += 5ms;
      limit.sample(latency, now, busy(limit.limit()));
    }
    after.push_back(limit.limit());
  }
  return after;
}

int at_limit(int limit) { return limit; }

std::vector<std::chrono::microseconds> steady(int windows, std::chrono::microseconds latency) {
  return std::vector<std::chrono::microseconds>(static_cast<std::size_t>(windows), latency);
}

} // namespace

BOOST_AUTO_TEST_SUITE(adaptive_limit_suite)

// The service keeps its latency while every place is taken: more places are worth trying,
// up to HTTP_MAX_IN_FLIGHT and never past it.
BOOST_AUTO_TEST_CASE(steady_latency_at_the_limit_grows_to_the_ceiling) {
  adaptive_limit_settings s;
  s.initial_limit = 64;
  adaptive_limit limit{s, ceiling};
  BOOST_TEST(limit.limit() == 64);
  auto after = replay(limit, steady(300, 4ms), at_limit);
  BOOST_TEST(std::is_sorted(after.begin(), after.end()));
  BOOST_TEST(after.back() == ceiling);
  BOOST_TEST(limit.baseline_s() == 0.004, boost::test_tools::tolerance(1e-9));
}

// Few requests in flight say nothing about more: the limit stays where it is.
BOOST_AUTO_TEST_CASE(an_idle_service_does_not_grow_the_limit) {
  adaptive_limit_settings s;
  s.initial_limit = 64;
  adaptive_limit limit{s, ceiling};
  auto after = replay(limit, steady(100, 4ms), [](int) { return 3; });
  BOOST_TEST(after.back() == 64);
}

// By default it starts at the ceiling: at first it admits what the static bound admits.
BOOST_AUTO_TEST_CASE(it_starts_at_the_ceiling) {
  BOOST_TEST(adaptive_limit({}, ceiling).limit() == ceiling);
}

// A service whose latency is a queue (each place taken adds 1/2000 s, a database that
// commits 2000 orders/s): started at the ceiling, the limit shrinks until the latency is
// about the floor (20 ms, 40 places), and stays there instead of drifting back up.
BOOST_AUTO_TEST_CASE(latency_rising_with_load_shrinks_the_limit_and_holds_it) {
  adaptive_limit_settings s;
  s.floor = 20ms;
  adaptive_limit limit{s, ceiling};
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  // A quiet start teaches the baseline: 2 ms with few in flight.
  for (int i = 0; i < 200; ++i)
    limit.sample(2ms, now += 5ms, 2);
  BOOST_TEST(limit.limit() == ceiling);
  std::vector<int> after;
  for (int window = 0; window < 600; ++window) {
    for (int i = 0; i < 20; ++i) {
      auto latency = std::chrono::microseconds{2000 + limit.limit() * 1000000 / 2000};
      limit.sample(latency, now += 5ms, limit.limit());
    }
    after.push_back(limit.limit());
  }
  BOOST_TEST(after[20] < ceiling / 2);
  int low = *std::min_element(after.begin() + 300, after.end());
  int high = *std::max_element(after.begin() + 300, after.end());
  BOOST_TEST(low >= s.min_limit);
  BOOST_TEST(high <= 60); // 60 places: 32 ms, well past the 20 ms floor
  BOOST_TEST(limit.baseline_s() < 0.005);
}

// A spike (a checkpoint, a vacuum): the limit gives way at once, and once the latency is
// back it grows to the ceiling again.
BOOST_AUTO_TEST_CASE(a_spike_shrinks_the_limit_and_it_recovers) {
  adaptive_limit_settings s;
  s.initial_limit = ceiling;
  adaptive_limit limit{s, ceiling};
  auto series = steady(50, 4ms);
  auto spike = steady(10, 300ms);
  series.insert(series.end(), spike.begin(), spike.end());
  auto after_spike = steady(400, 4ms);
  series.insert(series.end(), after_spike.begin(), after_spike.end());
  auto after = replay(limit, series, at_limit);
  BOOST_TEST(after[49] == ceiling);
  BOOST_TEST(after[59] < ceiling / 2);
  BOOST_TEST(*std::min_element(after.begin(), after.end()) >= s.min_limit);
  BOOST_TEST(after.back() == ceiling);
  BOOST_TEST(limit.baseline_s() < 0.005); // the spike did not become the norm
}

// The service became slower for every request, whatever the load (a slower disk, a busy
// machine): the limit gives way to the minimum, learns the new latency there, and grows
// back instead of holding the minimum for good (bench before this: 10 % of 1 000 creates/s
// made at a limit of 16, 100 % at the static 256).
BOOST_AUTO_TEST_CASE(a_slower_service_is_learnt_at_the_minimum_and_the_limit_grows_back) {
  adaptive_limit_settings s;
  s.initial_limit = ceiling;
  adaptive_limit limit{s, ceiling};
  auto series = steady(50, 3ms);
  auto slower = steady(400, 80ms);
  series.insert(series.end(), slower.begin(), slower.end());
  auto after = replay(limit, series, at_limit);
  BOOST_TEST(*std::min_element(after.begin() + 50, after.end()) < ceiling / 2);
  BOOST_TEST(after.back() == ceiling);
  BOOST_TEST(limit.baseline_s() > 0.04);
}

// Latencies under the floor never shrink the limit, however they compare with the baseline.
BOOST_AUTO_TEST_CASE(latency_under_the_floor_never_shrinks) {
  adaptive_limit_settings s;
  s.initial_limit = ceiling;
  adaptive_limit limit{s, ceiling};
  auto series = steady(50, 1ms);
  auto tenfold = steady(50, 45ms);
  series.insert(series.end(), tenfold.begin(), tenfold.end());
  auto after = replay(limit, series, at_limit);
  BOOST_TEST(*std::min_element(after.begin(), after.end()) == ceiling);
}

// A window is judged only with enough answers in it and time gone by.
BOOST_AUTO_TEST_CASE(a_window_needs_samples_and_time) {
  adaptive_limit_settings s;
  s.initial_limit = ceiling;
  adaptive_limit limit{s, ceiling};
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  for (int i = 0; i < s.window_min_samples - 1; ++i)
    BOOST_TEST(!limit.sample(1s, now += 1s, ceiling)); // few samples, long ago: no judgement
  BOOST_TEST(limit.baseline_s() == 0.0);
}

// The ceiling wins over a larger minimum or start.
BOOST_AUTO_TEST_CASE(the_ceiling_bounds_minimum_and_start) {
  adaptive_limit_settings s;
  s.min_limit = 500;
  s.initial_limit = 1000;
  adaptive_limit limit{s, 8};
  BOOST_TEST(limit.limit() == 8);
  replay(limit, steady(50, 1s), at_limit);
  BOOST_TEST(limit.limit() == 8);
}

// The admission bound applies the limit as it moves; refusals stay free.
BOOST_AUTO_TEST_CASE(admission_follows_the_adaptive_limit) {
  adaptive_limit_settings s;
  s.initial_limit = 4;
  s.min_limit = 2;
  s.window = 0ms;
  s.window_min_samples = 1;
  s.smoothing = 1.0; // every answer judged and taken at once
  admission places{8, s};
  BOOST_TEST(places.limit() == 4);
  for (int i = 0; i < 4; ++i)
    BOOST_TEST(places.try_enter());
  BOOST_TEST(!places.try_enter());
  places.leave(1ms); // baseline 1 ms, every place taken: grows
  BOOST_TEST(places.limit() > 4);
  for (int i = 0; i < 3; ++i)
    places.leave(1ms);
  for (int i = 0; i < 20; ++i) { // now each answer takes 300 times as long
    BOOST_TEST(places.try_enter());
    places.leave(300ms);
  }
  BOOST_TEST(places.limit() < 4); // at the minimum (2) or just above, learning the new latency
  BOOST_TEST(places.in_flight() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
