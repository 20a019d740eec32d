#pragma once
// The bounds every PostgreSQL connection carries (persistence/pg_session.hpp), as a
// plain value: app/config holds them and owns no second copy of their defaults.

#include <chrono>

namespace flashsale::persistence {

/// Bounds on one connection, defaults next to the variables that set them (app/config).
struct pg_limits {
  std::chrono::seconds connect_timeout{2};           // DB_CONNECT_TIMEOUT_S (libpq minimum 2)
  std::chrono::milliseconds statement_timeout{5000}; // DB_STATEMENT_TIMEOUT_MS
  std::chrono::milliseconds call_grace{1000};        // client-side cut = statement_timeout + this
  std::chrono::seconds keepalives_idle{5};           // DB_KEEPALIVE_IDLE_S
  std::chrono::seconds keepalives_interval{1};       // probes every second, then
  int keepalives_count = 3;                          // three unanswered probes end it
  std::chrono::milliseconds tcp_user_timeout{5000};  // DB_TCP_USER_TIMEOUT_MS: unacked data

  /// The longest a call through with() waits for the server before it is cut.
  std::chrono::milliseconds call_timeout() const { return statement_timeout + call_grace; }
};

} // namespace flashsale::persistence
