#pragma once
// `flashsale-order health`: the container health check. It asks the running service
// on its own configured address (HTTP_ADDR) for GET /healthz, so a changed address or
// a node without the http role is judged by what it really serves (issue 21).

#include <chrono>
#include <cstdint>
#include <string>

namespace flashsale {

struct health_check_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::chrono::milliseconds timeout{2000}; // connect, send and receive, each
};

struct health_result {
  bool healthy = false;
  std::string detail; // the status line, or why there is none
};

/// The host to dial for a listen address: a wildcard (0.0.0.0, ::, empty) means this
/// machine's loopback.
std::string dial_host(const std::string& listen_host);

/// GET /healthz on host:port; healthy when the answer's status is 200.
health_result check_health(const health_check_settings& s);

} // namespace flashsale
