#include "http/connection_guard.hpp"

#include "messages/api_error.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace flashsale::http {

namespace {

using clock = std::chrono::steady_clock;

std::int64_t ticks(clock::time_point t) {
  return t.time_since_epoch().count();
}

constexpr std::uint64_t phase_bits = 7;

std::uint64_t pack(conn_phase phase, clock::time_point t) {
  return (static_cast<std::uint64_t>(ticks(t)) << 3) | static_cast<std::uint64_t>(phase);
}

conn_phase phase_of(std::uint64_t word) {
  return static_cast<conn_phase>(word & phase_bits);
}

std::string raw_error(int status, const char* reason, const api_error& e, bool retry_after) {
  auto body = error_body_json(e);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: application/json\r\n";
  if (retry_after)
    out += "Retry-After: 1\r\n";
  out += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return out + body;
}

} // namespace

conn_state::conn_state() : state_(pack(conn_phase::cut, clock::now())), fd_(-1) {}

conn_state::conn_state(int fd, std::shared_ptr<std::atomic<long>> open)
  : state_(pack(conn_phase::idle, clock::now())), fd_(fd), open_(std::move(open)) {}

conn_state::~conn_state() {
  if (fd_ >= 0)
    ::close(fd_);
  if (open_)
    --*open_;
}

conn_state::snapshot conn_state::look() const {
  auto word = state_.load();
  return {phase_of(word), clock::time_point{clock::duration{static_cast<std::int64_t>(word >> 3)}},
          word};
}

bool conn_state::move(conn_phase from, conn_phase to) {
  auto word = state_.load();
  while (phase_of(word) == from)
    if (state_.compare_exchange_weak(word, pack(to, clock::now())))
      return true;
  return false;
}

void conn_state::request_started() {
  for (auto from : {conn_phase::idle, conn_phase::busy, conn_phase::write})
    if (move(from, conn_phase::head))
      return;
}

void conn_state::head_done() {
  move(conn_phase::head, conn_phase::body);
}

void conn_state::request_done() {
  if (!move(conn_phase::body, conn_phase::busy))
    move(conn_phase::head, conn_phase::busy);
}

void conn_state::writing() {
  move(conn_phase::busy, conn_phase::write);
}

void conn_state::answered() {
  move(conn_phase::write, conn_phase::idle);
}

void conn_state::finish() const {
  if (fd_ >= 0)
    ::shutdown(fd_, SHUT_WR);
}

bool conn_state::abort() {
  for (auto seen = look(); seen.phase != conn_phase::cut; seen = look())
    if (cut_from({}, seen, true))
      return true;
  return false;
}

bool conn_state::cut_if(std::string_view response, const snapshot& seen) {
  // Cut while its answer is written: the rest of the answer would never be read.
  return cut_from(response, seen, seen.phase == conn_phase::write);
}

bool conn_state::cut_from(std::string_view response, const snapshot& seen, bool reset) {
  auto expected = seen.word;
  if (!state_.compare_exchange_strong(expected, pack(conn_phase::cut, clock::now())))
    return false;
  if (fd_ < 0)
    return true;
  if (!response.empty())
    (void)::send(fd_, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (reset) { // the last close resets the connection and drops what is still unsent
    linger abort_on_close{1, 0};
    (void)::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  }
  ::shutdown(fd_, SHUT_RDWR);
  return true;
}

counter& write_failures(metrics_registry& metrics, const char* reason) {
  return metrics.get_counter("http_write_failures_total",
                             "answers not written, their connections reset: the client went "
                             "away (error) or stopped reading past HTTP_WRITE_TIMEOUT_MS (timeout)",
                             {{"reason", reason}});
}

connection_watch::connection_watch(connection_settings settings, metrics_registry& metrics)
  : settings_(settings), metrics_(metrics), thread_([this] { run(); }) {}

connection_watch::~connection_watch() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::string connection_watch::timeout_response() {
  return raw_error(408, "Request Timeout",
                   {error_code::request_timeout, "the request was not received in time"}, false);
}

std::string connection_watch::refusal_response() {
  return raw_error(503, "Service Unavailable",
                   {error_code::unavailable, "too many connections, retry later"}, true);
}

std::shared_ptr<conn_state> connection_watch::open(int fd) {
  if (static_cast<std::size_t>(open_->fetch_add(1)) >= settings_.max_connections) {
    --*open_;
    return refuse(fd, "max_connections");
  }
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) { // EMFILE, ENFILE: without a duplicate the watchdog could never cut it
    --*open_;
    return refuse(fd, "fd_limit");
  }
  auto conn = std::make_shared<conn_state>(own, open_);
  std::lock_guard<std::mutex> guard{mutex_};
  conns_.push_back(conn);
  return conn;
}

// On Pistache's own descriptor, valid while it tells us of the connection: Pistache sees
// the end of the stream and closes it; a refused connection costs no descriptor of ours.
std::shared_ptr<conn_state> connection_watch::refuse(int fd, const char* reason) {
  static const std::string refusal = refusal_response();
  (void)::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_RDWR);
  metrics_
    .get_counter("http_connections_refused_total",
                 "connections answered 503 and closed at accept: over HTTP_MAX_CONNECTIONS, "
                 "or no descriptor left (ulimit -n)",
                 {{"reason", reason}})
    .inc();
  return std::make_shared<conn_state>();
}

void connection_watch::run() {
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    wake_.wait_for(lock, settings_.tick);
    if (stopping_)
      break;
    lock.unlock();
    sweep();
    lock.lock();
  }
}

void connection_watch::sweep() {
  struct overdue {
    std::shared_ptr<conn_state> conn;
    conn_state::snapshot seen;
  };
  std::vector<overdue> over;
  auto now = clock::now();
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (std::size_t i = 0; i < conns_.size();) {
      auto conn = conns_[i].lock();
      if (!conn || conn->cut()) {
        conns_[i] = std::move(conns_.back());
        conns_.pop_back();
        continue;
      }
      ++i;
      auto seen = conn->look();
      auto took = now - seen.since;
      switch (seen.phase) {
        case conn_phase::idle:
          if (took > settings_.idle_timeout)
            over.push_back({std::move(conn), seen});
          break;
        case conn_phase::head:
          if (took > settings_.header_timeout)
            over.push_back({std::move(conn), seen});
          break;
        case conn_phase::body:
          if (took > settings_.body_timeout)
            over.push_back({std::move(conn), seen});
          break;
        case conn_phase::write:
          if (took > settings_.write_timeout)
            over.push_back({std::move(conn), seen});
          break;
        case conn_phase::busy:
        case conn_phase::cut:
          break;
      }
    }
  }
  static const std::string timeout = timeout_response();
  for (auto& [conn, seen] : over) {
    // A connection between requests is closed silently, one whose answer is half written
    // is reset; one mid-request hears why.
    bool reading = seen.phase == conn_phase::head || seen.phase == conn_phase::body;
    if (!conn->cut_if(reading ? timeout : std::string{}, seen))
      continue;
    if (reading)
      metrics_
        .get_counter("http_request_timeouts_total",
                     "requests cut for a head or body not received within its timeout", {})
        .inc();
    else if (seen.phase == conn_phase::write)
      write_failures(metrics_, "timeout").inc();
  }
}

} // namespace flashsale::http
