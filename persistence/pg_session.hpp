#pragma once
// One PostgreSQL connection owned by one thread (a detached actor), reconnected on
// demand. While the server is unreachable, get() fails fast instead of hanging, so
// requests are answered 503 within a second or two and service resumes by itself.
//
// Every connection is bounded (pg_limits): connect_timeout, TCP keepalives and
// tcp_user_timeout notice a peer that went silent (a failover, a cut network: packets
// dropped, no reset), statement_timeout stops a query the server spends too long on,
// and a call made through with() is cut by a watchdog (the socket is shut down) once it
// has waited longer than call_timeout(), whatever the reason: also when something
// between us and the server still acknowledges packets but answers nothing.

#include "messages/api_error.hpp"
#include "persistence/pg_limits.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

namespace pqxx {
class connection_base;
}

namespace flashsale::persistence {

class pg_session {
public:
  explicit pg_session(std::string database_url,
                      std::chrono::milliseconds retry_pause = std::chrono::milliseconds{500},
                      pg_limits limits = {});
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  /// A live connection, or throws (pqxx::broken_connection) without waiting when a
  /// connect attempt failed less than `retry_pause` ago.
  pqxx::connection_base& get();

  /// Forget the connection after an error that may have broken it.
  void reset();

  /// Runs `work` on the connection, cut after limits.call_timeout(); a broken (or cut)
  /// connection is reset so the next call reconnects. Exceptions propagate to the caller.
  template <class F>
  auto with(F&& work) -> decltype(work(std::declval<pqxx::connection_base&>())) {
    auto& conn = get();
    call_guard guard{*this};
    try {
      return work(conn);
    } catch (...) {
      reset_if_broken();
      throw;
    }
  }

  /// While alive, the watchdog cuts the connection when the call takes longer than
  /// call_timeout(). with() uses it; callers of get() may too.
  class call_guard {
  public:
    explicit call_guard(pg_session& s);
    ~call_guard();
    call_guard(const call_guard&) = delete;
    call_guard& operator=(const call_guard&) = delete;

  private:
    std::uint64_t ticket_;
  };

  const pg_limits& limits() const { return limits_; }

private:
  void reset_if_broken();

  std::string url_;
  std::chrono::milliseconds retry_pause_;
  pg_limits limits_;
  std::atomic<bool> cut_{false}; // the watchdog shut the socket down: the connection is gone
  std::chrono::steady_clock::time_point last_failure_{};
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Adds connect_timeout (and TCP keepalives) to a libpq URI unless already given.
std::string with_connect_timeout(const std::string& url, int seconds);

/// Adds every bound of `limits` that the URL (a URI or key=value conninfo) does not set
/// itself: connect_timeout, keepalives, keepalives_idle/interval/count, tcp_user_timeout
/// and options=-c statement_timeout=...
std::string with_connection_limits(const std::string& url, const pg_limits& limits);

/// Maps an exception from libpqxx (or anything else) to the API vocabulary:
/// unreachable database -> UNAVAILABLE, a value the database rejects (SQLSTATE class 22
/// data exception, 23 integrity violation) -> VALIDATION_FAILED, anything else ->
/// INTERNAL_ERROR. The message reveals no internals.
api_error to_api_error(const std::exception_ptr& e);

/// True when `e` is a database error caused by the data of one command (SQLSTATE class
/// 22 or 23, or a malformed array literal): retrying without that command can succeed.
bool is_data_error(const std::exception_ptr& e);

} // namespace flashsale::persistence
