#include "persistence/pg_session.hpp"

#include <pqxx/pqxx>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <sys/socket.h>

namespace flashsale::persistence {

namespace {

using steady = std::chrono::steady_clock;

/// One thread for the whole process that cuts calls past their deadline: it shuts the
/// socket down (the descriptor stays open and owned by its session, so it cannot be
/// reused under us), which makes the blocked libpq call fail at once.
class call_watchdog {
public:
  static call_watchdog& instance() {
    static call_watchdog w;
    return w;
  }

  std::uint64_t arm(int fd, steady::time_point deadline, std::atomic<bool>* cut) {
    std::lock_guard<std::mutex> lock{mutex_};
    auto ticket = next_ticket_++;
    armed_.emplace(ticket, entry{fd, deadline, cut});
    wake_.notify_one();
    return ticket;
  }

  void disarm(std::uint64_t ticket) {
    std::lock_guard<std::mutex> lock{mutex_};
    armed_.erase(ticket);
  }

  ~call_watchdog() {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable())
      thread_.join();
  }

private:
  struct entry {
    int fd;
    steady::time_point deadline;
    std::atomic<bool>* cut; // the session's flag: reconnect before the next call
  };

  call_watchdog() : thread_([this] { run(); }) {}

  void run() {
    std::unique_lock<std::mutex> lock{mutex_};
    while (!stopping_) {
      auto next = steady::time_point::max();
      auto now = steady::now();
      for (auto i = armed_.begin(); i != armed_.end();) {
        if (i->second.deadline <= now) {
          ::shutdown(i->second.fd, SHUT_RDWR);
          *i->second.cut = true;
          i = armed_.erase(i);
          continue;
        }
        next = std::min(next, i->second.deadline);
        ++i;
      }
      if (next == steady::time_point::max())
        wake_.wait(lock);
      else
        wake_.wait_until(lock, next);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, entry> armed_;
  std::uint64_t next_ticket_ = 1;
  bool stopping_ = false;
  std::thread thread_; // last: starts once the members above exist
};

} // namespace

struct pg_session::impl {
  explicit impl(const std::string& url) : conn(url) {}
  pqxx::connection conn;
};

pg_session::pg_session(std::string database_url, std::chrono::milliseconds retry_pause,
                       pg_limits limits)
  : url_(with_connection_limits(database_url, limits)), retry_pause_(retry_pause),
    limits_(limits) {}

pg_session::~pg_session() = default;

pqxx::connection_base& pg_session::get() {
  if (impl_ && !cut_ && impl_->conn.is_open())
    return impl_->conn;
  impl_.reset();
  cut_ = false;
  auto now = steady::now();
  if (last_failure_ != steady::time_point{} && now - last_failure_ < retry_pause_)
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
  cut_ = false;
}

void pg_session::reset_if_broken() {
  if (impl_ && (cut_ || !impl_->conn.is_open()))
    reset();
}

pg_session::call_guard::call_guard(pg_session& s) : ticket_(0) {
  if (s.impl_ && s.impl_->conn.sock() >= 0)
    ticket_ = call_watchdog::instance().arm(s.impl_->conn.sock(),
                                            steady::now() + s.limits_.call_timeout(), &s.cut_);
}

pg_session::call_guard::~call_guard() {
  if (ticket_ != 0)
    call_watchdog::instance().disarm(ticket_);
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

std::string with_connection_limits(const std::string& url, const pg_limits& limits) {
  bool is_uri = url.rfind("postgres", 0) == 0;
  std::string out = url;
  auto add = [&](const std::string& key, const std::string& uri_value,
                 const std::string& conninfo_value) {
    if (url.find(key + "=") != std::string::npos)
      return; // the operator's own value wins
    if (is_uri)
      out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + uri_value;
    else
      out += " " + key + "=" + conninfo_value;
  };
  auto secs = [](auto d) { return std::to_string(d.count()); };
  add("connect_timeout", secs(limits.connect_timeout), secs(limits.connect_timeout));
  add("keepalives", "1", "1");
  add("keepalives_idle", secs(limits.keepalives_idle), secs(limits.keepalives_idle));
  add("keepalives_interval", secs(limits.keepalives_interval), secs(limits.keepalives_interval));
  add("keepalives_count", std::to_string(limits.keepalives_count),
      std::to_string(limits.keepalives_count));
  add("tcp_user_timeout", std::to_string(limits.tcp_user_timeout.count()),
      std::to_string(limits.tcp_user_timeout.count()));
  if (url.find("statement_timeout") == std::string::npos) {
    auto ms = std::to_string(limits.statement_timeout.count());
    add("options", "-c%20statement_timeout%3D" + ms, "'-c statement_timeout=" + ms + "'");
  }
  return out;
}

namespace {

bool is_connection_state(const std::string& sqlstate) {
  // Class 08 = connection exception; 57P0x = server shutting down / cannot connect now.
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0;
}

bool is_data_state(const std::string& sqlstate) {
  // Class 22 = data exception (bad encoding, malformed literal, value out of range),
  // class 23 = integrity constraint violation.
  return sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0;
}

} // namespace

bool is_data_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const pqxx::sql_error& err) {
    return is_data_state(err.sqlstate());
  } catch (...) {
    return false;
  }
}

api_error to_api_error(const std::exception_ptr& e) {
  api_error unavailable{error_code::unavailable, "database unavailable, retry later"};
  api_error internal{error_code::internal_error, "internal error"};
  api_error rejected{error_code::validation_failed,
                     "a value of the request was rejected by the database"};
  try {
    std::rethrow_exception(e);
  } catch (const pqxx::broken_connection&) {
    return unavailable;
  } catch (const pqxx::in_doubt_error&) {
    return unavailable;
  } catch (const pqxx::sql_error& err) {
    if (is_connection_state(err.sqlstate()))
      return unavailable;
    // 57014 query_canceled: statement_timeout, the database is too slow right now.
    if (err.sqlstate() == "57014")
      return unavailable;
    return is_data_state(err.sqlstate()) ? rejected : internal;
  } catch (...) {
    return internal;
  }
}

} // namespace flashsale::persistence
