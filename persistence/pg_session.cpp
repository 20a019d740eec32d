#include "persistence/pg_session.hpp"

#include <pqxx/pqxx>

namespace flashsale::persistence {

struct pg_session::impl {
  explicit impl(const std::string& url) : conn(url) {}
  pqxx::connection conn;
};

pg_session::pg_session(std::string database_url, std::chrono::milliseconds retry_pause)
  : url_(with_connect_timeout(database_url, 2)), retry_pause_(retry_pause) {}

pg_session::~pg_session() = default;

pqxx::connection_base& pg_session::get() {
  if (impl_ && impl_->conn.is_open())
    return impl_->conn;
  impl_.reset();
  auto now = std::chrono::steady_clock::now();
  if (last_failure_ != std::chrono::steady_clock::time_point{}
      && now - last_failure_ < retry_pause_)
    throw pqxx::broken_connection{"database unreachable (waiting before retrying)"};
  try {
    impl_ = std::make_unique<impl>(url_);
    last_failure_ = {};
  } catch (...) {
    last_failure_ = now;
    throw;
  }
  return impl_->conn;
}

void pg_session::reset() {
  impl_.reset();
}

void pg_session::reset_if_broken() {
  if (impl_ && !impl_->conn.is_open())
    impl_.reset();
}

std::string with_connect_timeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos)
    return url;
  bool is_uri = url.rfind("postgres", 0) == 0;
  std::string params = "connect_timeout=" + std::to_string(seconds);
  if (!is_uri)
    return url + " " + params;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + params;
}

namespace {

bool is_connection_state(const std::string& sqlstate) {
  // Class 08 = connection exception; 57P0x = server shutting down / cannot connect now.
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0;
}

} // namespace

api_error to_api_error(const std::exception_ptr& e) {
  api_error unavailable{error_code::unavailable, "database unavailable, retry later"};
  api_error internal{error_code::internal_error, "internal error"};
  try {
    std::rethrow_exception(e);
  } catch (const pqxx::broken_connection&) {
    return unavailable;
  } catch (const pqxx::in_doubt_error&) {
    return unavailable;
  } catch (const pqxx::sql_error& err) {
    return is_connection_state(err.sqlstate()) ? unavailable : internal;
  } catch (...) {
    return internal;
  }
}

} // namespace flashsale::persistence
