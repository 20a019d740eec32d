#pragma once
// The bounds on the HTTP server's connections, as a plain value: app/config holds them
// (in http::server_settings) and owns no second copy of their defaults.

#include <chrono>
#include <cstddef>

namespace flashsale::http {

struct connection_settings {
  std::size_t max_connections = 10000;              // HTTP_MAX_CONNECTIONS
  std::chrono::milliseconds header_timeout{10000};  // HTTP_HEADER_TIMEOUT_MS
  std::chrono::milliseconds body_timeout{10000};    // HTTP_BODY_TIMEOUT_MS
  std::chrono::milliseconds write_timeout{10000};   // HTTP_WRITE_TIMEOUT_MS
  std::chrono::milliseconds idle_timeout{75000};    // HTTP_KEEPALIVE_TIMEOUT_S
  std::chrono::milliseconds tick{100};              // the watchdog's period: the timeouts' resolution
};

} // namespace flashsale::http
