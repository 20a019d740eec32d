// A plain blocking HTTP/1.1 GET over a POSIX socket: the health check runs as its
// own short process (not on CAF's scheduler), and needs nothing but the status line.

#include "app/health_check.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace flashsale {

namespace {

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

void set_timeouts(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  // On Linux SO_SNDTIMEO bounds connect() as well.
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Connects to the first address of host:port that answers; -1 with `why` set if none.
int dial(const health_check_settings& s, std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(s.port);
  if (int rc = ::getaddrinfo(s.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    why = "cannot resolve " + s.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    set_timeouts(fd, s.timeout);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    why = "cannot connect to " + s.host + ":" + port + ": " + std::strerror(errno);
    ::close(fd);
  }
  return -1;
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until the end of the status line (or the peer closes).
std::string read_status_line(int fd) {
  std::string got;
  char buf[256];
  while (got.find("\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got.substr(0, got.find("\r\n"));
}

} // namespace

std::string dial_host(const std::string& listen_host) {
  if (listen_host.empty() || listen_host == "0.0.0.0" || listen_host == "*") return "127.0.0.1";
  if (listen_host == "::" || listen_host == "[::]") return "::1";
  if (listen_host.size() > 2 && listen_host.front() == '[' && listen_host.back() == ']')
    return listen_host.substr(1, listen_host.size() - 2);
  return listen_host;
}

health_result check_health(const health_check_settings& s) {
  std::string why;
  fd_closer conn{dial(s, why)};
  if (conn.fd < 0) return {false, why};
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: " + s.host + "\r\nConnection: close\r\n\r\n";
  if (!send_all(conn.fd, request)) return {false, std::string("send: ") + std::strerror(errno)};
  const std::string status = read_status_line(conn.fd);
  if (status.empty()) return {false, "no answer within the timeout"};
  // "HTTP/1.1 200 OK": the code is the second word.
  const auto space = status.find(' ');
  const bool ok = space != std::string::npos && status.compare(space + 1, 3, "200") == 0;
  return {ok, status};
}

} // namespace flashsale
