// flashsale-stampede: a stampede of creates that waits for every answer (issue 12,
// CONTRACT §3 "Overload").
//
// Each of --conns connections sends creates one after the other on one persistent
// HTTP/1.1 connection, each with its own idempotency key <prefix>-<conn>-<i>, until
// --duration seconds have passed (or --requests-per-conn are sent). A request started
// before the cut-off is always awaited to its answer (up to --answer-timeout), so that
// "committed but the client got no 201" counts real losses, not requests a load generator
// abandoned at the end of its run.
//
// After a 503 with Retry-After a connection waits that many seconds before its next
// request, as a well-behaved client does (--ignore-retry-after: at once). An answer with
// `Connection: close`, or a failed connection, makes the next request reconnect; after a
// request without an answer (status 0) the connection waits 50 ms, so that a refused
// connect does not spin. Writes one line per request to --out: key, status, error code,
// Retry-After, latency ms. Prints a JSON summary on stdout.
//
// Plain sockets and epoll, --threads event loops (default 2), the connections dealt out
// among them: the client's cost per request stays small beside the service it measures on
// a shared machine.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using steady = std::chrono::steady_clock;
using seconds_f = std::chrono::duration<double>;

constexpr double no_answer_pause_s = 0.05;    // after a request without an answer: no spin
constexpr std::size_t max_head_bytes = 65536; // a longer head is a failed answer
constexpr std::size_t read_chunk = 65536;
constexpr int max_events = 256;

// -- options ------------------------------------------------------------------------------

struct options {
  int port = 0;
  int conns = 2000;
  double duration_s = 10.0;
  long requests_per_conn = 0; // 0: until --duration
  double answer_timeout_s = 30.0;
  bool honour_retry_after = true;
  std::string prefix;
  std::string user;
  std::string out;
  int threads = 2;
};

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: flashsale-stampede --port PORT --prefix PREFIX --user USER --out FILE\n"
               "         [--conns N (2000)] [--duration S (10)] [--requests-per-conn N (0: until\n"
               "         --duration)] [--answer-timeout S (30)] [--ignore-retry-after]\n"
               "         [--threads N (2)]\n\n"
               "A stampede of creates that waits for every answer (issue 12).\n");
}

[[noreturn]] void bad_usage(const std::string& why) {
  usage(stderr);
  std::fprintf(stderr, "flashsale-stampede: error: %s\n", why.c_str());
  std::exit(2);
}

template <typename T>
T number_of(const std::string& name, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  bool whole = std::is_integral<T>::value ? v == std::floor(v) : true;
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || !whole || v < 0)
    bad_usage("argument " + name + ": invalid value '" + text + "'");
  return static_cast<T>(v);
}

// The option ARG names: itself or the one option it is the start of, as argparse takes
// them.
std::string option_named(const std::string& arg) {
  static const std::vector<std::string> names = {"--port",
                                                 "--conns",
                                                 "--duration",
                                                 "--requests-per-conn",
                                                 "--answer-timeout",
                                                 "--ignore-retry-after",
                                                 "--prefix",
                                                 "--user",
                                                 "--out",
                                                 "--threads",
                                                 "--help"};
  if (std::find(names.begin(), names.end(), arg) != names.end())
    return arg;
  std::vector<std::string> match;
  for (const auto& n : names)
    if (arg.size() > 2 && n.rfind(arg, 0) == 0)
      match.push_back(n);
  if (match.size() != 1)
    bad_usage("unrecognized or ambiguous argument: " + arg);
  return match[0];
}

void set_option(options& o, const std::string& name, const std::string& value) {
  if (name == "--port")
    o.port = number_of<int>(name, value);
  else if (name == "--conns")
    o.conns = number_of<int>(name, value);
  else if (name == "--duration")
    o.duration_s = number_of<double>(name, value);
  else if (name == "--requests-per-conn")
    o.requests_per_conn = number_of<long>(name, value);
  else if (name == "--answer-timeout")
    o.answer_timeout_s = number_of<double>(name, value);
  else if (name == "--threads")
    o.threads = std::max(1, number_of<int>(name, value));
  else if (name == "--prefix")
    o.prefix = value;
  else if (name == "--user")
    o.user = value;
  else if (name == "--out")
    o.out = value;
}

// --NAME VALUE or --NAME=VALUE; --port, --prefix, --user and --out are required.
options parse_options(int argc, char** argv) {
  options o;
  std::vector<std::string> given;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    auto eq = arg.find('=');
    bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    std::string name = arg == "-h" ? "--help" : option_named(arg);
    if (name == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (name == "--ignore-retry-after") {
      o.honour_retry_after = false;
      continue;
    }
    if (!inline_value && i + 1 >= argc)
      bad_usage("argument " + name + ": expected one argument");
    set_option(o, name, inline_value ? value : argv[++i]);
    given.push_back(name);
  }
  for (const char* required : {"--port", "--prefix", "--user", "--out"})
    if (std::find(given.begin(), given.end(), required) == given.end())
      bad_usage("the following arguments are required: --port, --prefix, --user, --out");
  return o;
}

// -- what is sent -------------------------------------------------------------------------

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return buf.GetString();
}

std::string body_for(const std::string& user) {
  return "{\"user_id\": " + json_string(user)
         + ", \"currency\": \"EUR\", \"total_amount\": 2, "
           "\"items\": [{\"sku_id\": \"sku-1\", \"quantity\": 2, \"price\": 1}]}";
}

std::string request_for(const std::string& key, const std::string& body) {
  return "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "X-Idempotency-Key: "
         + key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// -- what comes back ----------------------------------------------------------------------

struct answer {
  int status = 0;
  std::string connection;  // lower case
  std::string retry_after; // "-": none
  std::string body;
};

std::string_view trimmed(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// A decimal integer with an optional sign and white space around it.
std::optional<long long> integer_of(std::string_view s) {
  s = trimmed(s);
  bool negative = !s.empty() && s.front() == '-';
  if (!s.empty() && (s.front() == '-' || s.front() == '+'))
    s.remove_prefix(1);
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

enum class parsed { complete, incomplete, bad };

// The answer at the start of IN: its head, then Content-Length bytes of body. On
// `complete`, USED is how many bytes of IN it took.
parsed parse_answer(const std::string& in, answer& a, std::size_t& used) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos)
    return in.size() > max_head_bytes ? parsed::bad : parsed::incomplete;
  if (end + 4 > max_head_bytes)
    return parsed::bad;
  std::string_view head(in.data(), end);
  auto eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  auto sp = status_line.find(' ');
  if (sp == std::string_view::npos)
    return parsed::bad;
  auto code = integer_of(status_line.substr(sp + 1, status_line.find(' ', sp + 1) - sp - 1));
  if (!code)
    return parsed::bad;
  a = answer{};
  a.status = static_cast<int>(*code);
  a.retry_after = "-";
  std::string_view length_text = "0";
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    std::string name = lower(trimmed(line.substr(0, colon)));
    std::string_view value = trimmed(line.substr(colon + 1));
    if (name == "content-length")
      length_text = value;
    else if (name == "connection")
      a.connection = lower(value);
    else if (name == "retry-after")
      a.retry_after = std::string(value);
  }
  auto length = integer_of(length_text);
  if (!length || *length < 0)
    return parsed::bad;
  if (in.size() < end + 4 + static_cast<std::size_t>(*length))
    return parsed::incomplete;
  a.body = in.substr(end + 4, static_cast<std::size_t>(*length));
  used = end + 4 + static_cast<std::size_t>(*length);
  return parsed::complete;
}

// {"error":{"code":...}} of an error answer, or NOT_JSON.
std::string error_code_of(const std::string& body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject())
    return "NOT_JSON";
  auto e = d.FindMember("error");
  if (e == d.MemberEnd() || !e->value.IsObject())
    return "NOT_JSON";
  auto c = e->value.FindMember("code");
  if (c == e->value.MemberEnd())
    return "NOT_JSON";
  if (c->value.IsString())
    return c->value.GetString();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  c->value.Accept(w);
  return buf.GetString();
}

// -- the connections ----------------------------------------------------------------------

struct record {
  std::string key;
  int status = 0; // 0: no answer
  std::string code = "-";
  std::string retry_after = "-";
  double latency_ms = 0;
  steady::time_point finished;
};

enum class phase { waiting, connecting, writing, reading, done };

struct connection {
  int number = 0;
  int fd = -1;
  std::uint32_t socket_gen = 0; // tells a stale epoll event of a closed socket apart
  std::uint64_t timer_gen = 0;  // only the newest timer counts
  phase state = phase::waiting;
  long sent = 0;
  std::string out;
  std::size_t written = 0;
  std::string in;
  record current;
  steady::time_point started;
};

// One event loop driving its share of the connections until each has passed the cut-off
// and has its last answer (or has given up on it).
class worker {
public:
  worker(const options& o, const std::string& body, steady::time_point cutoff,
         std::vector<int> numbers)
    : opts_(o), body_(body), cutoff_(cutoff) {
    for (int n : numbers) {
      conns_.emplace_back();
      conns_.back().number = n;
    }
    answer_timeout_ = std::chrono::duration_cast<steady::duration>(seconds_f(o.answer_timeout_s));
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  ~worker() {
    if (epoll_ >= 0)
      ::close(epoll_);
  }

  void run();
  std::vector<record>& results() { return results_; }

private:
  struct timer {
    steady::time_point at;
    std::size_t conn;
    std::uint64_t gen;
    bool operator>(const timer& o) const { return at > o.at; }
  };

  void begin(connection& c);
  void open(connection& c);
  void start_write(connection& c);
  void try_write(connection& c);
  void try_read(connection& c);
  void on_io(connection& c, std::uint32_t events);
  void on_timer(connection& c);
  void answered(connection& c, const answer& a);
  void failed(connection& c);
  void pause(connection& c, double seconds);
  void finish(connection& c);
  void close_socket(connection& c);
  void set_timer(connection& c, steady::time_point at);
  int wait_ms() const;
  void fire_timers();
  std::size_t index(const connection& c) const { return static_cast<std::size_t>(&c - &conns_[0]); }

  const options& opts_;
  const std::string& body_;
  steady::time_point cutoff_;
  steady::duration answer_timeout_{};
  std::vector<connection> conns_;
  std::vector<record> results_;
  std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
  int epoll_ = -1;
  std::size_t active_ = 0;
};

void worker::run() {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) {
    std::perror("flashsale-stampede: epoll_create1");
    std::exit(1);
  }
  active_ = conns_.size();
  for (auto& c : conns_)
    begin(c);
  epoll_event events[max_events];
  while (active_ > 0) {
    int n = ::epoll_wait(epoll_, events, max_events, wait_ms());
    for (int i = 0; i < n; ++i) {
      auto& c = conns_[events[i].data.u64 & 0xffffffffu];
      if (c.fd >= 0 && c.socket_gen == static_cast<std::uint32_t>(events[i].data.u64 >> 32))
        on_io(c, events[i].events);
    }
    fire_timers();
  }
}

// The next request of C, or its end: past the cut-off, or all its requests sent.
void worker::begin(connection& c) {
  if (steady::now() >= cutoff_
      || (opts_.requests_per_conn > 0 && c.sent >= opts_.requests_per_conn)) {
    finish(c);
    return;
  }
  c.current = record{};
  c.current.key = opts_.prefix + "-" + std::to_string(c.number) + "-" + std::to_string(c.sent);
  ++c.sent;
  c.started = steady::now();
  if (c.fd < 0)
    open(c);
  else
    start_write(c);
}

void worker::open(connection& c) {
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    failed(c);
    return;
  }
  ++c.socket_gen;
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (static_cast<std::uint64_t>(c.socket_gen) << 32) | index(c);
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) < 0) {
    failed(c);
    return;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(opts_.port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    start_write(c);
  } else if (errno == EINPROGRESS) {
    c.state = phase::connecting;
    set_timer(c, c.started + answer_timeout_);
  } else {
    failed(c);
  }
}

void worker::start_write(connection& c) {
  c.out = request_for(c.current.key, body_);
  c.written = 0;
  c.state = phase::writing;
  set_timer(c, steady::now() + answer_timeout_); // the answer is awaited this long
  try_write(c);
}

void worker::try_write(connection& c) {
  while (c.written < c.out.size()) {
    auto r = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (r < 0) {
      failed(c);
      return;
    }
    c.written += static_cast<std::size_t>(r);
  }
  c.state = phase::reading;
  try_read(c);
}

void worker::try_read(connection& c) {
  char buf[read_chunk];
  bool closed = false;
  for (;;) {
    auto r = ::recv(c.fd, buf, sizeof buf, 0);
    if (r > 0) {
      c.in.append(buf, static_cast<std::size_t>(r));
      continue;
    }
    if (r < 0 && errno == EINTR)
      continue;
    closed = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  answer a;
  std::size_t used = 0;
  auto p = parse_answer(c.in, a, used);
  if (p == parsed::complete) {
    c.in.erase(0, used);
    answered(c, a);
  } else if (p == parsed::bad || closed) {
    failed(c);
  }
}

void worker::on_io(connection& c, std::uint32_t events) {
  if (c.state == phase::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
      failed(c);
      return;
    }
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
      start_write(c);
  } else if (c.state == phase::writing) {
    try_write(c);
  } else if (c.state == phase::reading) {
    try_read(c);
  }
}

void worker::on_timer(connection& c) {
  if (c.state == phase::waiting)
    begin(c);
  else if (c.state != phase::done)
    failed(c); // no connection or no answer within --answer-timeout
}

void worker::answered(connection& c, const answer& a) {
  ++c.timer_gen;
  c.current.status = a.status;
  if (a.status >= 400)
    c.current.code = error_code_of(a.body);
  c.current.retry_after = a.retry_after;
  if (a.connection == "close")
    close_socket(c);
  c.current.finished = steady::now();
  c.current.latency_ms = seconds_f(c.current.finished - c.started).count() * 1000;
  results_.push_back(c.current);
  double wait = 0;
  if (a.status == 503 && opts_.honour_retry_after && a.retry_after != "-") {
    char* end = nullptr;
    double v = std::strtod(a.retry_after.c_str(), &end);
    if (end != a.retry_after.c_str() && *end == '\0' && std::isfinite(v) && v > 0)
      wait = v; // as a well-behaved client does
  }
  if (wait > 0)
    pause(c, wait);
  else
    begin(c);
}

void worker::failed(connection& c) {
  ++c.timer_gen;
  close_socket(c);
  c.current.status = 0;
  c.current.code = c.current.retry_after = "-";
  c.current.finished = steady::now();
  c.current.latency_ms = seconds_f(c.current.finished - c.started).count() * 1000;
  results_.push_back(c.current);
  pause(c, no_answer_pause_s);
}

void worker::pause(connection& c, double seconds) {
  c.state = phase::waiting;
  set_timer(c, steady::now() + std::chrono::duration_cast<steady::duration>(seconds_f(seconds)));
}

void worker::finish(connection& c) {
  ++c.timer_gen;
  close_socket(c);
  c.state = phase::done;
  --active_;
}

void worker::close_socket(connection& c) {
  if (c.fd >= 0)
    ::close(c.fd); // leaves the epoll set with it
  c.fd = -1;
  c.in.clear();
}

void worker::set_timer(connection& c, steady::time_point at) {
  timers_.push(timer{at, index(c), ++c.timer_gen});
}

int worker::wait_ms() const {
  if (timers_.empty())
    return -1;
  auto left = timers_.top().at - steady::now();
  if (left <= steady::duration::zero())
    return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<long long>(ms, 60000));
}

void worker::fire_timers() {
  auto now = steady::now();
  while (!timers_.empty() && timers_.top().at <= now) {
    timer t = timers_.top();
    timers_.pop();
    auto& c = conns_[t.conn];
    if (t.gen == c.timer_gen)
      on_timer(c);
  }
}

// -- the summary --------------------------------------------------------------------------

// V rounded to DIGITS decimals, written as Python writes a float: no trailing zeros but
// one.
std::string decimal(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  std::string s = buf;
  while (s.size() > 2 && s.back() == '0' && s[s.size() - 2] != '.')
    s.pop_back();
  return s;
}

std::string percentile(std::vector<double> values, double p) {
  if (values.empty())
    return "null";
  std::sort(values.begin(), values.end());
  auto i = std::min(values.size() - 1, static_cast<std::size_t>(values.size() * p));
  return decimal(values[i], 1);
}

void write_out(const std::string& path, const std::vector<record>& results) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::perror(("flashsale-stampede: " + path).c_str());
    std::exit(1);
  }
  for (const auto& r : results)
    std::fprintf(f, "%s %d %s %s %.1f\n", r.key.c_str(), r.status, r.code.c_str(),
                 r.retry_after.c_str(), r.latency_ms);
  if (std::fclose(f) != 0) {
    std::perror(("flashsale-stampede: " + path).c_str());
    std::exit(1);
  }
}

void print_summary(const options& o, const std::vector<record>& results, double wall_s) {
  std::vector<std::pair<std::string, long>> by_status; // in the order first seen
  std::vector<double> ok, refused;
  for (const auto& r : results) {
    auto s = std::to_string(r.status);
    auto it =
      std::find_if(by_status.begin(), by_status.end(), [&](const auto& e) { return e.first == s; });
    if (it == by_status.end())
      by_status.emplace_back(s, 1);
    else
      ++it->second;
    if (r.status == 201)
      ok.push_back(r.latency_ms);
    else if (r.status == 503)
      refused.push_back(r.latency_ms);
  }
  std::string statuses;
  for (const auto& [s, n] : by_status)
    statuses += (statuses.empty() ? "\"" : ", \"") + s + "\": " + std::to_string(n);
  double goodput = wall_s > 0 ? static_cast<double>(ok.size()) / wall_s : 0;
  std::printf("{\"conns\": %d, \"requests\": %zu, \"wall_s\": %s, \"by_status\": {%s}, "
              "\"goodput_per_s\": %s, \"created_p50_ms\": %s, \"created_p99_ms\": %s, "
              "\"refused_p50_ms\": %s, \"refused_p99_ms\": %s}\n",
              o.conns, results.size(), decimal(wall_s, 2).c_str(), statuses.c_str(),
              decimal(goodput, 1).c_str(), percentile(ok, 0.5).c_str(),
              percentile(ok, 0.99).c_str(), percentile(refused, 0.5).c_str(),
              percentile(refused, 0.99).c_str());
}

// 2 000 client sockets want more than the usual soft limit of 1 024.
void raise_open_files_limit() {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &l);
  }
}

} // namespace

int main(int argc, char** argv) {
  options o = parse_options(argc, argv);
  raise_open_files_limit();
  std::string body = body_for(o.user);
  int threads = std::max(1, std::min(o.threads, o.conns));
  std::vector<std::vector<int>> shares(static_cast<std::size_t>(threads));
  for (int n = 0; n < o.conns; ++n)
    shares[static_cast<std::size_t>(n % threads)].push_back(n);

  auto start = steady::now();
  auto cutoff = start + std::chrono::duration_cast<steady::duration>(seconds_f(o.duration_s));
  std::vector<std::unique_ptr<worker>> workers;
  for (auto& share : shares)
    workers.push_back(std::make_unique<worker>(o, body, cutoff, std::move(share)));
  std::vector<std::thread> running;
  for (auto& w : workers)
    running.emplace_back([&w] { w->run(); });
  for (auto& t : running)
    t.join();
  double wall_s = seconds_f(steady::now() - start).count();

  std::vector<record> results;
  for (auto& w : workers)
    results.insert(results.end(), std::make_move_iterator(w->results().begin()),
                   std::make_move_iterator(w->results().end()));
  std::stable_sort(results.begin(), results.end(),
                   [](const record& a, const record& b) { return a.finished < b.finished; });
  write_out(o.out, results);
  print_summary(o, results, wall_s);
  return 0;
}
