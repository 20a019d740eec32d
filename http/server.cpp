#include "http/server.hpp"

#include "actors/outbox/outbox_metrics.hpp"
#include "actors/protocol.hpp"
#include "http/reply_sink.hpp"
#include "http/connection.hpp"
#include "http/request_parser.hpp"
#include "http/requests.hpp"
#include "http/routes.hpp"
#include "messages/clock.hpp"
#include "messages/trace_context.hpp"
#include "messages/uuid.hpp"

#include <caf/send.hpp>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>

namespace flashsale::http {

namespace Ph = Pistache::Http;

static_assert(parser_limits{}.max_body_bytes == max_body_bytes,
              "the parser's body limit is CONTRACT §3's");

namespace {

using clock = std::chrono::steady_clock;

/// The listen queue asked of the kernel (see widen_listen_queue).
constexpr int listen_backlog = 4096;

/// /readyz's view of the outbox backlog (docs/API.md): rows not yet on Kafka, those of
/// them whose last attempt failed and that wait for a retry, and the oldest one's age.
std::string outbox_json(const outbox_gauges& g) {
  auto count = [](double v) { return std::to_string(static_cast<long long>(std::llround(v))); };
  char age[32];
  std::snprintf(age, sizeof age, "%.1f", g.oldest_pending_age_s.load());
  return R"({"pending":)" + count(g.pending.load()) + R"(,"waiting":)" + count(g.waiting.load())
         + R"(,"oldest_pending_age_s":)" + age + "}";
}

/// A response header with a name chosen at run time: Pistache writes typed headers
/// only, not raw ones.
class text_header final : public Ph::Header::Header {
public:
  text_header(std::string name, std::string value)
    : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return 0; }
#endif

private:
  std::string name_;
  std::string value_;
};

/// What became of one answer handed to Pistache: written, failed, or forgotten. Pistache
/// 0.0.5 neither resolves nor rejects the promise of a write that meets EPIPE, ECONNRESET
/// or EBADF, nor of one still queued when it drops the connection (the client reset it):
/// its callbacks are destroyed uncalled, and this object with them, unsettled. Either way
/// the request stops counting as in flight; an answer not written ends its connection and
/// so frees its place under HTTP_MAX_CONNECTIONS.
class answer_outcome {
public:
  answer_outcome(std::shared_ptr<std::atomic<int>> in_flight, std::shared_ptr<conn_state> conn,
                 bool close_after, metrics_registry& metrics)
    : in_flight_(std::move(in_flight)), conn_(std::move(conn)), close_after_(close_after),
      metrics_(metrics) {}
  ~answer_outcome() { forgotten(); }
  answer_outcome(const answer_outcome&) = delete;
  answer_outcome& operator=(const answer_outcome&) = delete;

  void written() {
    if (settle())
      done();
  }

  void failed() {
    if (settle() && conn_ && conn_->abort())
      write_failures(metrics_, "error").inc();
  }

  /// Destroyed with neither callback called. That happens to answers of healthy
  /// keep-alive connections too (cutting them showed as a read error in every few wrk
  /// runs), so the connection goes on as if the answer were written: a dead one is
  /// closed by Pistache when it reads the reset, or by the idle timeout.
  void forgotten() {
    if (!settle())
      return;
    if (conn_ && !conn_->cut())
      write_failures(metrics_, "forgotten").inc();
    done();
  }

private:
  void done() {
    if (!conn_)
      return;
    conn_->answered();
    if (close_after_) // RFC 9112 §9.6: the connection does not persist
      conn_->finish();
  }

  bool settle() {
    if (std::exchange(settled_, true))
      return false;
    --*in_flight_;
    return true;
  }

  std::shared_ptr<std::atomic<int>> in_flight_;
  std::shared_ptr<conn_state> conn_;
  bool close_after_;
  metrics_registry& metrics_;
  bool settled_ = false;
};

/// Sends one answer through Pistache and records the route's metrics. When the
/// connection does not persist (RFC 9112 §9.6), our side closes once the answer is out.
class pistache_sink final : public reply_sink {
public:
  pistache_sink(Ph::ResponseWriter writer, metrics_registry& metrics, const char* route,
                std::string method, std::shared_ptr<std::atomic<int>> in_flight, bool close_after,
                std::shared_ptr<conn_state> conn)
    : writer_(std::move(writer)), metrics_(metrics), route_(route), method_(std::move(method)),
      started_(clock::now()), in_flight_(std::move(in_flight)), close_after_(close_after),
      conn_(std::move(conn)) {
    ++*in_flight_;
  }

  ~pistache_sink() override {
    if (admitted_) // never answered: give the place back all the same
      admitted_->leave();
  }

  /// The request holds a place of the admission bound until it is answered; how long it
  /// held it is what the adaptive limit measures.
  void hold(std::shared_ptr<admission> places) {
    admitted_ = std::move(places);
    held_since_ = clock::now();
  }

  /// The connection the answer goes to (null for none).
  const std::shared_ptr<conn_state>& connection() const { return conn_; }

  /// A request counts as in flight (server::drain) until its answer is written.
  void send(http_reply r) override {
    if (auto places = std::exchange(admitted_, nullptr))
      places->leave(clock::now() - held_since_);
    for (auto& [name, value] : r.headers)
      writer_.headers().add(std::make_shared<text_header>(name, value));
    bool json = r.body.empty() || r.body.front() == '{';
    auto mime = json ? MIME(Application, Json) : MIME(Text, Plain);
    if (conn_)
      conn_->writing();
    auto outcome = std::make_shared<answer_outcome>(in_flight_, conn_, close_after_, metrics_);
    auto sent = writer_.send(static_cast<Ph::Code>(r.status), r.body, mime);
    sent.then([outcome](ssize_t) { outcome->written(); },
              [outcome](std::exception_ptr) { outcome->failed(); });
    record(r.status);
  }

private:
  void record(int status) {
    std::chrono::duration<double> took = clock::now() - started_;
    metrics_
      .get_counter("http_requests_total", "HTTP requests by route, method and status",
                   {{"route", route_}, {"method", method_}, {"status", std::to_string(status)}})
      .inc();
    metrics_
      .get_histogram("http_request_duration_seconds", "HTTP request latency by route",
                     {{"route", route_}})
      .observe(took.count());
  }

  Ph::ResponseWriter writer_;
  metrics_registry& metrics_;
  const char* route_;
  std::string method_;
  clock::time_point started_;
  std::shared_ptr<std::atomic<int>> in_flight_;
  bool close_after_;
  std::shared_ptr<conn_state> conn_;
  std::shared_ptr<admission> admitted_;
  clock::time_point held_since_;
};

connection_option connection_of(const Ph::Request& req) {
  auto header = req.headers().tryGet<Ph::Header::Connection>();
  if (!header)
    return connection_option::absent;
  switch (header->control()) {
    case Ph::ConnectionControl::Close:
      return connection_option::close;
    case Ph::ConnectionControl::KeepAlive:
      return connection_option::keep_alive;
    case Ph::ConnectionControl::Ext:
      break;
  }
  return connection_option::other;
}

http_version version_of(const Ph::Request& req) {
  return req.version() == Ph::Version::Http10 ? http_version::http_1_0 : http_version::http_1_1;
}

/// Replaces the Connection header Pistache put on the answer ("Close" whenever the
/// request had none) with ours.
void settle_connection(const Ph::Request& req, Ph::ResponseWriter& response, bool keep) {
  response.headers().remove<Ph::Header::Connection>();
  if (!keep)
    response.headers().add<Ph::Header::Connection>(Ph::ConnectionControl::Close);
  else if (version_of(req) == http_version::http_1_0)
    response.headers().add<Ph::Header::Connection>(Ph::ConnectionControl::KeepAlive);
}

/// Answers the error `parsed` holds, if any; true when it did.
template <class T>
bool answered_error(const std::variant<T, api_error>& parsed, const reply_sink_ptr& sink) {
  const auto* err = std::get_if<api_error>(&parsed);
  if (err)
    sink->send(error_reply(*err));
  return err != nullptr;
}

bool answered_error(const std::optional<api_error>& err, const reply_sink_ptr& sink) {
  if (err)
    sink->send(error_reply(*err));
  return err.has_value();
}

http_reply method_not_allowed(const route_match& route) {
  auto reply = error_reply(error_code::method_not_allowed, "method not allowed on this route");
  reply.headers.emplace_back("Allow", route.allow); // RFC 9110 §15.5.6: required
  return reply;
}

/// The answer beyond the admission limit, built once: a refusal must cost next to nothing.
const http_reply& busy_reply() {
  static const http_reply busy = [] {
    return error_reply(error_code::unavailable,
                       "the service is at its admission limit, retry later");
  }();
  return busy;
}

http_reply not_found() {
  return error_reply(error_code::not_found, "no such route");
}

std::optional<std::string> header(const Ph::Request& req, const char* name) {
  auto raw = req.headers().tryGetRaw(name);
  if (!raw)
    return std::nullopt;
  return field_value(raw->value());
}

/// Our span of the request's trace (CONTRACT §3): continues the caller's traceparent,
/// or starts a trace when it is absent or malformed (never an error).
std::string request_span(const Ph::Request& req) {
  return next_traceparent(header(req, "traceparent").value_or(std::string{}));
}

class handler final : public Ph::Handler {
public:
  HTTP_PROTOTYPE(handler)

  handler(server_settings settings, caf::actor bridge, metrics_registry* metrics,
          std::shared_ptr<const health_state> health, std::shared_ptr<std::atomic<int>> in_flight,
          std::shared_ptr<admission> places, std::shared_ptr<connection_watch> watch)
    : settings_(std::move(settings)), bridge_(std::move(bridge)), metrics_(metrics),
      health_(std::move(health)), in_flight_(std::move(in_flight)), places_(std::move(places)),
      watch_(std::move(watch)),
      refused_(&metrics_->get_counter(
        "http_requests_refused_total",
        "order requests refused at the admission limit (HTTP_MAX_IN_FLIGHT, HTTP_ADMISSION)", {})) {}

  // Our parser instead of Pistache's (see request_parser.hpp), watched from now on; over
  // the connection cap the watch has answered 503 and ended the connection already.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    auto conn = watch_->open(peer->fd());
    peer->putData(ParserData, std::make_shared<request_parser>(settings_.limits, conn));
  }

  // The client closed or reset the connection (or a cut ended it): what it still waits
  // for, a create above all, is for nobody now.
  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    if (auto parser = std::static_pointer_cast<request_parser>(peer->tryGetData(ParserData)))
      if (const auto& conn = parser->connection())
        conn->gone();
  }

  void onRequest(const Ph::Request& req, Ph::ResponseWriter response) override {
    auto peer = response.getPeer();
    if (!peer)
      return;
    auto parser = std::static_pointer_cast<request_parser>(peer->getData(ParserData));
    if (parser->draining()) { // what a refused request's client still sends
      peer->setIdle(true);
      return;
    }
    if (const auto& conn = parser->connection())
      conn->request_done();
    const auto& failure = parser->failure();
    bool keep = !failure.status && keeps_connection(version_of(req), connection_of(req));
    settle_connection(req, response, keep);
    std::string method = failure.status ? "-" : Ph::methodString(req.method());
    auto route = failure.status == 405 ? match_route(failure.method, failure.target)
                 : failure.status      ? route_match{}
                                       : match_route(method, req.resource());
    auto sink = std::make_shared<pistache_sink>(std::move(response), *metrics_, route.label, method,
                                                in_flight_, !keep, parser->connection());
    if (failure.status) {
      // Pistache has not parsed the rest of this request: the connection ends after it.
      parser->start_draining();
      if (failure.status == 405) { // a method Pistache cannot parse: no route has it
        sink->send(route.id == route_id::method_not_allowed ? method_not_allowed(route)
                                                            : not_found());
        return;
      }
      auto code = failure.status == 413 ? error_code::payload_too_large
                                        : error_code::invalid_request;
      sink->send(error_reply(code, failure.message));
      return;
    }
    try {
      dispatch(route, req, sink);
    } catch (...) {
      sink->send(error_reply(error_code::internal_error, "internal error"));
    }
  }

private:
  void dispatch(const route_match& route, const Ph::Request& req,
                const std::shared_ptr<pistache_sink>& sink) {
    if (req.body().size() > max_body_bytes) {
      sink->send(error_reply(error_code::payload_too_large, "request body is over 64 KiB"));
      return;
    }
    switch (route.id) {
      case route_id::create_order:
      case route_id::get_order:
      case route_id::cancel_order:
      case route_id::list_orders:
        return order_endpoint(route, req, sink);
      case route_id::healthz:
        return sink->send({200, R"({"status":"ok"})", {}});
      case route_id::readyz:
        return ready(sink);
      case route_id::metrics:
        return sink->send({200, metrics_->render(), {}});
      case route_id::method_not_allowed:
        return sink->send(method_not_allowed(route));
      case route_id::not_found:
        return sink->send(not_found());
    }
  }

  /// Admission first (CONTRACT §3 "Overload"), then X-User-Id, optional on every order
  /// endpoint, before anything else.
  void order_endpoint(const route_match& route, const Ph::Request& req,
                      const std::shared_ptr<pistache_sink>& answer) {
    if (!places_->try_enter()) {
      refused_->inc();
      answer->send(busy_reply());
      return;
    }
    answer->hold(places_);
    reply_sink_ptr sink = answer; // what the bridge's messages carry
    auto caller = parse_caller(header(req, "X-User-Id"));
    if (answered_error(caller, sink))
      return;
    auto& user = std::get<std::string>(caller);
    switch (route.id) {
      case route_id::create_order:
        return create(req, user, sink, answer->connection());
      case route_id::get_order:
        return with_order_id(route, sink, [&](std::string id) {
          caf::anon_send(bridge_, fetch_atom::value, std::move(id), std::move(user), sink);
        });
      case route_id::cancel_order:
        return cancel(route, req, std::move(user), sink);
      default:
        return list(req, user, sink);
    }
  }

  void create(const Ph::Request& req, const std::string& caller, const reply_sink_ptr& sink,
              const std::shared_ptr<conn_state>& conn) {
    auto key = header(req, "X-Idempotency-Key");
    if (!key || !valid_idempotency_key(*key)) {
      sink->send(error_reply(error_code::invalid_request,
                             "header X-Idempotency-Key (1-64 printable ASCII) is required"));
      return;
    }
    auto parsed = parse_create_order(req.body());
    if (answered_error(parsed, sink)
        || answered_error(ownership_error(caller, std::get<create_order_request>(parsed).user_id),
                          sink))
      return;
    // The id is minted in a shard this node owns: the create is never forwarded.
    std::optional<std::pair<std::string, shard_fence>> minted;
    if (health_->shards) {
      minted = health_->shards->mint(new_uuid);
      if (!minted) {
        sink->send(error_reply(error_code::unavailable,
                               "this node owns no shard of orders now, retry"));
        return;
      }
    }
    auto cmd = make_create_command(std::get<create_order_request>(std::move(parsed)),
                                   std::move(*key), unix_now_ms(), settings_.ttl_created,
                                   minted ? minted->first : new_uuid());
    if (minted)
      cmd.fence = minted->second;
    cmd.created_event.traceparent = request_span(req);
    if (conn) // a client that hangs up before the commit leaves no order
      cmd.client_gone = conn->gone_flag();
    caf::anon_send(bridge_, create_atom::value, std::move(cmd), sink);
  }

  void cancel(const route_match& route, const Ph::Request& req, std::string user_id,
              const reply_sink_ptr& sink) {
    auto reason = parse_cancel_reason(req.body());
    if (answered_error(reason, sink))
      return;
    with_order_id(route, sink, [&](std::string id) {
      caf::anon_send(bridge_, cancel_atom::value, std::move(id),
                     std::get<std::string>(std::move(reason)), std::move(user_id),
                     request_span(req), sink);
    });
  }

  void list(const Ph::Request& req, const std::string& caller, const reply_sink_ptr& sink) {
    const auto& q = req.query();
    auto parsed = parse_list_query(q.get("user_id"), q.get("limit"), q.get("offset"));
    if (answered_error(parsed, sink)
        || answered_error(ownership_error(caller, std::get<list_query>(parsed).user_id), sink))
      return;
    caf::anon_send(bridge_, list_atom::value, std::get<list_query>(std::move(parsed)), sink);
  }

  void ready(const reply_sink_ptr& sink) {
    bool db = health_->database_ok, kafka = health_->kafka_ok, joined = health_->joined();
    std::string body = std::string{R"({"database":")"} + (db ? "up" : "down")
                       + R"(","kafka":")" + (kafka ? "up" : "down") + "\"";
    if (health_->shards)
      body += R"(,"shards":{"joined":)" + std::string{joined ? "true" : "false"}
              + R"(,"owned":)" + std::to_string(health_->shards->owned_count()) + "}";
    if (health_->outbox)
      body += R"(,"outbox":)" + outbox_json(*health_->outbox);
    body += "}";
    sink->send({db && kafka && joined ? 200 : 503, body, {}});
  }

  template <class F>
  void with_order_id(const route_match& route, const reply_sink_ptr& sink, F send) {
    auto id = normalize_uuid(route.order_id);
    if (!id) {
      sink->send(error_reply(error_code::invalid_request, "order id is not a valid UUID"));
      return;
    }
    send(std::move(*id));
  }

  server_settings settings_;
  caf::actor bridge_;
  metrics_registry* metrics_;
  std::shared_ptr<const health_state> health_;
  std::shared_ptr<std::atomic<int>> in_flight_;
  std::shared_ptr<admission> places_;
  std::shared_ptr<connection_watch> watch_;
  counter* refused_;
};

/// Calls `fn(fd, family)` for each of this process's listening sockets bound to `port`
/// (Pistache 0.0.5 does not let us reach its listener).
template <class F>
void for_each_listener(std::uint16_t port, F fn) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir)
    return;
  while (auto* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || fd < 0 || fd == dirfd(dir))
      continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0
        || !listening)
      continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &alen) != 0)
      continue;
    std::uint16_t bound = 0;
    if (addr.ss_family == AF_INET)
      bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
      bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port)
      fn(static_cast<int>(fd), addr.ss_family);
  }
  closedir(dir);
}

/// Pistache 0.0.5 cannot stop accepting without tearing every connection down: put an
/// unbound socket in its listener's place (dup2 closes the listener atomically; the
/// descriptor stays valid for Pistache to close later).
void close_listener(std::uint16_t port) {
  for_each_listener(port, [](int fd, int family) {
    int placeholder = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (placeholder >= 0) {
      dup2(placeholder, fd);
      close(placeholder);
    }
  });
}

/// A stampede connects all at once: Pistache 0.0.5 listens with a queue of 128 whatever
/// Options::backlog says, the queue overflows and the kernel makes the rest retry their
/// SYN a second later. listen() again on a listening socket sets its queue (Linux
/// clamps it to net.core.somaxconn).
void widen_listen_queue(std::uint16_t port) {
  for_each_listener(port, [](int fd, int) { ::listen(fd, listen_backlog); });
}

/// The cap on connections as far as descriptors allow: each connection takes two (ours is
/// a duplicate), and Pistache must never meet EMFILE at accept (it would spin on the
/// listening socket). Raises the soft descriptor limit to the hard one first.
std::size_t connection_cap(std::size_t wanted) {
  constexpr rlim_t reserve = 256; // database, Kafka, logs, the listener
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return wanted;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised{lim.rlim_max, lim.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur <= 2 * reserve)
    return lim.rlim_cur == RLIM_INFINITY ? wanted : 1;
  auto room = static_cast<std::size_t>((lim.rlim_cur - reserve) / 2);
  return std::min(wanted, room);
}

} // namespace

server::server(server_settings settings, caf::actor bridge, metrics_registry& metrics,
               std::shared_ptr<const health_state> health)
  : settings_(std::move(settings)), bridge_(std::move(bridge)), metrics_(metrics),
    health_(std::move(health)) {}

server::~server() {
  stop();
}

void server::start() {
  Pistache::Address addr{settings_.host, Pistache::Port{settings_.port}};
  endpoint_ = std::make_unique<Ph::Endpoint>(addr);
  auto conns = settings_.connections;
  conns.idle_timeout = settings_.keepalive_timeout;
  conns.max_connections = connection_cap(conns.max_connections);
  // Pistache's own timeouts only back ours up: every one of them later than all of ours.
  auto backstop = conns.idle_timeout + conns.header_timeout + conns.body_timeout
                  + conns.write_timeout + std::chrono::seconds{5};
  auto opts = Ph::Endpoint::options()
                .threads(settings_.threads)
                .maxRequestSize(request_parser::buffer_size(settings_.limits))
                .keepaliveTimeout(backstop)
                .headerTimeout(backstop)
                .bodyTimeout(backstop)
                .flags(Pistache::Tcp::Options::ReuseAddr);
  endpoint_->init(opts);
  admission_ = settings_.admission.enabled
                 ? std::make_shared<admission>(settings_.max_in_flight, settings_.admission)
                 : std::make_shared<admission>(settings_.max_in_flight);
  auto places = admission_;
  metrics_.add_gauge("http_admission_limit",
                     "order requests admitted in flight at most, now (HTTP_ADMISSION)",
                     [places] { return double(places->limit()); });
  metrics_.add_gauge("http_admission_in_flight", "order requests in flight now",
                     [places] { return double(places->in_flight()); });
  watch_ = std::make_shared<connection_watch>(conns, metrics_);
  endpoint_->setHandler(Ph::make_handler<handler>(settings_, bridge_, &metrics_, health_,
                                                  in_flight_, admission_, watch_));
  endpoint_->serveThreaded();
  widen_listen_queue(port());
}

int server::drain(std::chrono::milliseconds deadline) {
  if (!endpoint_)
    return 0;
  close_listener(port());
  auto until = clock::now() + deadline;
  while (in_flight_->load() > 0 && clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds{10}); // polled: a stop, not a hot path
  return in_flight_->load();
}

void server::stop() {
  if (endpoint_) {
    endpoint_->shutdown();
    endpoint_.reset();
  }
  watch_.reset();
}

std::size_t server::max_connections() const {
  return watch_ ? watch_->settings().max_connections : 0;
}

std::uint16_t server::port() const {
  return endpoint_ ? static_cast<std::uint16_t>(static_cast<std::uint16_t>(endpoint_->getPort()))
                   : 0;
}

} // namespace flashsale::http
