#pragma once
// Wall-clock time as the service stores and sends it: milliseconds since the Unix epoch.

#include <chrono>
#include <cstdint>

namespace flashsale {

inline std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace flashsale
