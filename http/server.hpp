#pragma once
// The Pistache endpoint: parses and validates requests on Pistache's threads, hands
// them to the HTTP bridge with a reply_sink, and returns at once.

#include "actors/health_monitor.hpp"
#include "http/admission.hpp"
#include "http/connection_guard.hpp"
#include "http/server_settings.hpp"
#include "metrics/metrics.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace Pistache::Http {
class Endpoint;
}

namespace flashsale::http {

class server {
public:
  server(server_settings settings, caf::actor bridge, metrics_registry& metrics,
         std::shared_ptr<const health_state> health);
  ~server();

  /// Binds and serves on background threads; throws when the address is unusable.
  void start();
  /// Graceful stop, first half: closes the listening socket (new connections are
  /// refused), then waits until every request already taken is answered and its answer
  /// written, at most `deadline`. Returns how many were still unanswered.
  int drain(std::chrono::milliseconds deadline);
  void stop();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;
  /// The cap on open connections in force (HTTP_MAX_CONNECTIONS, lowered to what the
  /// descriptor limit allows).
  std::size_t max_connections() const;

private:
  server_settings settings_;
  caf::actor bridge_;
  metrics_registry& metrics_;
  std::shared_ptr<const health_state> health_;
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<admission> admission_;
  std::shared_ptr<connection_watch> watch_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

} // namespace flashsale::http
