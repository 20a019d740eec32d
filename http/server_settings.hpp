#pragma once
// What the HTTP server (http/server.hpp) needs to know, every default written once:
// app/config holds these settings (HTTP_*) as they are.

#include "actors/order/order_settings.hpp"
#include "http/adaptive_limit.hpp"
#include "http/connection.hpp"
#include "http/connection_settings.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace flashsale::http {

struct server_settings {
  std::string host = "0.0.0.0";         // HTTP_ADDR
  std::uint16_t port = 8080;            // HTTP_ADDR
  int threads = 2;                      // HTTP_THREADS: Pistache I/O threads
  std::chrono::seconds ttl_created = order_settings{}.ttl_created; // ORDER_TTL_CREATED_S
  /// HTTP_KEEPALIVE_TIMEOUT_S: idle connections (the server sets connections.idle_timeout)
  std::chrono::seconds keepalive_timeout =
    std::chrono::duration_cast<std::chrono::seconds>(connection_settings{}.idle_timeout);
  connection_settings connections;      // HTTP_MAX_CONNECTIONS, HTTP_HEADER/BODY/WRITE_TIMEOUT_MS
  int max_in_flight = 256;              // HTTP_MAX_IN_FLIGHT: order requests in flight
  adaptive_limit_settings admission;    // HTTP_ADMISSION, HTTP_ADMISSION_*: under the above
  parser_limits limits;
};

} // namespace flashsale::http
