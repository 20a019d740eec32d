#pragma once
// Whether a Kafka broker answers: a metadata request through a client of its own.
// Blocking (up to the timeout): call from a detached actor or a thread of its own.

#include <chrono>
#include <memory>
#include <string>

namespace flashsale::kafka {

class broker_probe {
public:
  explicit broker_probe(const std::string& brokers);
  ~broker_probe();
  broker_probe(const broker_probe&) = delete;
  broker_probe& operator=(const broker_probe&) = delete;

  /// True when a broker returned metadata naming at least one broker within `timeout`.
  bool reachable(std::chrono::milliseconds timeout);
  /// Why the probe's client could not be made (then reachable() is always false).
  const std::string& setup_error() const { return error_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string error_;
};

} // namespace flashsale::kafka
