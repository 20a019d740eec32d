#pragma once
// One PostgreSQL connection owned by one thread (a detached actor), reconnected on
// demand. While the server is unreachable, get() fails fast instead of hanging, so
// requests are answered 503 within a second or two and service resumes by itself.

#include "messages/api_error.hpp"

#include <chrono>
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
                      std::chrono::milliseconds retry_pause = std::chrono::milliseconds{500});
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  /// A live connection, or throws (pqxx::broken_connection) without waiting when a
  /// connect attempt failed less than `retry_pause` ago.
  pqxx::connection_base& get();

  /// Forget the connection after an error that may have broken it.
  void reset();

  /// Runs `work` on the connection; a broken connection is reset so the next call
  /// reconnects. Exceptions propagate to the caller.
  template <class F>
  auto with(F&& work) -> decltype(work(std::declval<pqxx::connection_base&>())) {
    try {
      return work(get());
    } catch (...) {
      reset_if_broken();
      throw;
    }
  }

private:
  void reset_if_broken();

  std::string url_;
  std::chrono::milliseconds retry_pause_;
  std::chrono::steady_clock::time_point last_failure_{};
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Adds connect_timeout (and TCP keepalives) to a libpq URI unless already given.
std::string with_connect_timeout(const std::string& url, int seconds);

/// Maps an exception from libpqxx (or anything else) to the API vocabulary:
/// unreachable database -> UNAVAILABLE, anything else -> INTERNAL_ERROR. The message
/// reveals no internals.
api_error to_api_error(const std::exception_ptr& e);

} // namespace flashsale::persistence
