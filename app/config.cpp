#include "app/config.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <unistd.h>

namespace flashsale {

namespace {

struct config_error {
  std::string line;
};

/// A value quoted for the error line, control characters escaped so that the line stays one.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
      continue;
    }
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    out += hex;
  }
  return out + "'";
}

std::optional<long> parse_long(const std::string& text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

/// Reads an integer variable within [lo, hi], keeping `value` when unset.
template <class T>
void read_int(const env_lookup& env, const std::string& name, long lo, long hi, T& value) {
  auto text = env(name);
  if (!text)
    return;
  auto n = parse_long(*text);
  if (!n || *n < lo || *n > hi)
    throw config_error{name + " must be an integer between " + std::to_string(lo) + " and "
                       + std::to_string(hi) + ", got " + quoted(*text)};
  value = static_cast<T>(*n);
}

void read_seconds(const env_lookup& env, const std::string& name, std::chrono::seconds& value,
                  long lo = 1) {
  long n = value.count();
  read_int(env, name, lo, 365L * 24 * 3600, n);
  value = std::chrono::seconds{n};
}

void read_millis(const env_lookup& env, const std::string& name, long lo, long hi,
                 std::chrono::milliseconds& value) {
  long n = static_cast<long>(value.count());
  read_int(env, name, lo, hi, n);
  value = std::chrono::milliseconds{n};
}

std::string required(const env_lookup& env, const std::string& name) {
  auto text = env(name);
  if (!text || text->empty())
    throw config_error{name + " is required"};
  return *text;
}

void read_http_addr(const env_lookup& env, config& cfg) {
  auto text = env("HTTP_ADDR");
  if (!text)
    return;
  auto colon = text->rfind(':');
  auto port = colon == std::string::npos ? std::nullopt : parse_long(text->substr(colon + 1));
  if (!port || *port < 0 || *port > 65535 || colon == 0)
    throw config_error{"HTTP_ADDR must be host:port (e.g. 0.0.0.0:8080), got " + quoted(*text)};
  cfg.http.host = text->substr(0, colon);
  cfg.http.port = static_cast<std::uint16_t>(*port);
}

void read_roles(const env_lookup& env, config& cfg) {
  auto text = env("ORDER_ROLES");
  if (!text)
    return;
  cfg.enabled = roles{false, false, false, false};
  std::size_t start = 0;
  while (start <= text->size()) {
    auto end = text->find(',', start);
    if (end == std::string::npos)
      end = text->size();
    auto role = text->substr(start, end - start);
    if (role == "http")
      cfg.enabled.http = true;
    else if (role == "relay")
      cfg.enabled.relay = true;
    else if (role == "consumer")
      cfg.enabled.consumer = true;
    else if (role == "expiry")
      cfg.enabled.expiry = true;
    else
      throw config_error{"ORDER_ROLES takes a comma-separated subset of "
                         "http,relay,consumer,expiry; got " + quoted(*text)};
    start = end + 1;
  }
}

void read_choice(const env_lookup& env, const std::string& name,
                 std::initializer_list<const char*> allowed, std::string& value) {
  auto text = env(name);
  if (!text)
    return;
  for (auto* a : allowed)
    if (*text == a) {
      value = *text;
      return;
    }
  std::string list;
  for (auto* a : allowed)
    list += (list.empty() ? "" : "|") + std::string{a};
  throw config_error{name + " must be one of " + list + ", got " + quoted(*text)};
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

/// A PEM file the process must be able to read: it exists, is readable and holds a
/// PEM block (the cluster transport parses it fully at start, actors/cluster.cpp).
std::string read_pem_path(const env_lookup& env, const std::string& name) {
  auto path = env(name);
  if (!path || path->empty())
    return {};
  std::ifstream in{*path, std::ios::binary};
  if (!in)
    throw config_error{name + " names a file that cannot be read: " + quoted(*path)};
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find("-----BEGIN ") == std::string::npos)
    throw config_error{name + " must name a PEM file, " + quoted(*path) + " holds no PEM block"};
  return *path;
}

/// CLUSTER_TLS_CA, CLUSTER_TLS_CERT, CLUSTER_TLS_KEY (all or none) and CLUSTER_INSECURE.
void read_cluster_tls(const env_lookup& env, config& cfg) {
  cfg.cluster_tls_ca = read_pem_path(env, "CLUSTER_TLS_CA");
  cfg.cluster_tls_cert = read_pem_path(env, "CLUSTER_TLS_CERT");
  cfg.cluster_tls_key = read_pem_path(env, "CLUSTER_TLS_KEY");
  bool any = !cfg.cluster_tls_ca.empty() || !cfg.cluster_tls_cert.empty()
             || !cfg.cluster_tls_key.empty();
  if (any) {
    for (const auto& [name, value] : {std::pair{"CLUSTER_TLS_CA", &cfg.cluster_tls_ca},
                                      std::pair{"CLUSTER_TLS_CERT", &cfg.cluster_tls_cert},
                                      std::pair{"CLUSTER_TLS_KEY", &cfg.cluster_tls_key}})
      if (value->empty())
        throw config_error{std::string{name}
                           + " is required when any of CLUSTER_TLS_CA, CLUSTER_TLS_CERT, "
                             "CLUSTER_TLS_KEY is set"};
  }
  if (auto text = env("CLUSTER_INSECURE")) {
    if (*text != "0" && *text != "1")
      throw config_error{"CLUSTER_INSECURE must be 0 or 1, got " + quoted(*text)};
    cfg.cluster_insecure = *text == "1";
  }
}

void read_admission(const env_lookup& env, http::adaptive_limit_settings& a) {
  std::string mode = a.enabled ? "adaptive" : "static";
  read_choice(env, "HTTP_ADMISSION", {"adaptive", "static"}, mode);
  a.enabled = mode == "adaptive";
  read_int(env, "HTTP_ADMISSION_MIN", 1, 1000000, a.min_limit);
  read_millis(env, "HTTP_ADMISSION_FLOOR_MS", 1, 600000, a.floor);
}

void read_database_bounds(const env_lookup& env, config& cfg) {
  long connect = cfg.db.connect_timeout.count(), idle = cfg.db.keepalives_idle.count();
  read_int(env, "DB_CONNECT_TIMEOUT_S", 2, 600, connect); // libpq takes 2 s at least
  read_int(env, "DB_KEEPALIVE_IDLE_S", 1, 3600, idle);
  cfg.db.connect_timeout = std::chrono::seconds{connect};
  cfg.db.keepalives_idle = std::chrono::seconds{idle};
  read_millis(env, "DB_STATEMENT_TIMEOUT_MS", 100, 600000, cfg.db.statement_timeout);
  read_millis(env, "DB_TCP_USER_TIMEOUT_MS", 100, 600000, cfg.db.tcp_user_timeout);
}

/// NODE_ID and CLUSTER_HOST, with defaults that differ per process and per machine.
void read_cluster(const env_lookup& env, config& cfg) {
  cfg.node_id = host_name() + "-" + std::to_string(getpid());
  if (auto id = env("NODE_ID")) {
    if (id->empty() || id->size() > 128)
      throw config_error{"NODE_ID must be 1-128 characters, got " + quoted(*id)};
    cfg.node_id = *id;
    cfg.node_id_given = true;
  }
  const auto& h = cfg.http.host;
  cfg.cluster_host =
    (h.empty() || h == "0.0.0.0" || h == "*" || h == "::" || h == "[::]") ? host_name() : h;
  if (auto host = env("CLUSTER_HOST")) {
    if (host->empty())
      throw config_error{"CLUSTER_HOST must not be empty"};
    cfg.cluster_host = *host;
  }
  read_int(env, "CAF_NODE_PORT", 0, 65535, cfg.caf_node_port);
  read_millis(env, "CLUSTER_HEARTBEAT_MS", 50, 60000, cfg.cluster.heartbeat);
  read_millis(env, "CLUSTER_TIMEOUT_MS", 100, 600000, cfg.cluster.timeout);
  if (cfg.cluster.timeout <= cfg.cluster.heartbeat)
    throw config_error{"CLUSTER_TIMEOUT_MS must be greater than CLUSTER_HEARTBEAT_MS"};
  read_cluster_tls(env, cfg);
}

/// After DB_STATEMENT_TIMEOUT_MS: a forward that gives up before the owner's own database
/// work is done makes this node run the command as well (two writers).
void read_forward_timeout(const env_lookup& env, config& cfg) {
  read_millis(env, "CLUSTER_FORWARD_TIMEOUT_MS", 10, 600000, cfg.cluster_forward_timeout);
  if (!env("CLUSTER_FORWARD_TIMEOUT_MS"))
    return;
  auto owner = budgets_of(cfg).owner_command;
  if (cfg.cluster_forward_timeout <= owner)
    throw config_error{"CLUSTER_FORWARD_TIMEOUT_MS must be greater than the owner's database "
                       "budget, 2 x (DB_STATEMENT_TIMEOUT_MS + "
                       + std::to_string(db_call_grace.count()) + ") = "
                       + std::to_string(owner.count()) + " ms, got "
                       + std::to_string(cfg.cluster_forward_timeout.count())};
}

} // namespace

std::variant<config, std::string> load_config(const env_lookup& env) {
  config cfg;
  try {
    cfg.database_url = required(env, "DATABASE_URL");
    cfg.kafka_brokers = required(env, "KAFKA_BROKERS");
    read_http_addr(env, cfg);
    read_roles(env, cfg);
    read_int(env, "OUTBOX_RELAYS", 0, 64, cfg.outbox.relays);
    read_int(env, "OUTBOX_BATCH", 1, 10000, cfg.outbox.batch);
    read_seconds(env, "OUTBOX_RETENTION_S", cfg.outbox.retention, 0); // 0: deleted at once
    read_millis(env, "OUTBOX_POLL_MS", 10, 60000, cfg.outbox.poll_interval);
    read_seconds(env, "ORDER_TTL_CREATED_S", cfg.order.ttl_created);
    read_seconds(env, "ORDER_TTL_RESERVED_S", cfg.order.ttl_reserved);
    read_seconds(env, "ORDER_TTL_PAYMENT_PENDING_S", cfg.order.ttl_payment_pending);
    if (auto g = env("KAFKA_GROUP_ID")) {
      if (g->empty())
        throw config_error{"KAFKA_GROUP_ID must not be empty"};
      cfg.consumer.group_id = *g;
    }
    read_choice(env, "LOG_LEVEL", {"debug", "info", "warn", "error"}, cfg.log_level);
    read_choice(env, "LOG_FORMAT", {"json", "text"}, cfg.log_format);
    read_int(env, "DB_WRITERS", 1, 32, cfg.db_writers);
    read_int(env, "DB_READERS", 1, 32, cfg.db_readers);
    read_int(env, "DB_MAX_BATCH", 1, 10000, cfg.db_max_batch);
    read_int(env, "HTTP_THREADS", 1, 64, cfg.http.threads);
    read_seconds(env, "HTTP_KEEPALIVE_TIMEOUT_S", cfg.http.keepalive_timeout);
    read_int(env, "HTTP_MAX_CONNECTIONS", 1, 1000000, cfg.http.connections.max_connections);
    read_millis(env, "HTTP_HEADER_TIMEOUT_MS", 100, 3600000, cfg.http.connections.header_timeout);
    read_millis(env, "HTTP_BODY_TIMEOUT_MS", 100, 3600000, cfg.http.connections.body_timeout);
    read_millis(env, "HTTP_WRITE_TIMEOUT_MS", 100, 3600000, cfg.http.connections.write_timeout);
    read_int(env, "HTTP_MAX_IN_FLIGHT", 1, 1000000, cfg.http.max_in_flight);
    read_int(env, "CONSUMER_MAX_IN_FLIGHT", 1, 1000000, cfg.consumer.max_in_flight);
    // Kafka's brokers accept 6 s to 30 min by default (group.min/max.session.timeout.ms).
    read_millis(env, "KAFKA_SESSION_TIMEOUT_MS", 1000, 1800000, cfg.consumer.session_timeout);
    read_seconds(env, "ORDER_PASSIVATE_S", cfg.order.passivate_after);
    read_admission(env, cfg.http.admission);
    read_seconds(env, "INBOX_RETENTION_S", cfg.inbox_retention);
    read_millis(env, "INBOX_JANITOR_INTERVAL_MS", 10, 3600000, cfg.inbox_janitor_interval);
    read_int(env, "INBOX_JANITOR_BATCH", 1, 100000, cfg.inbox_janitor_batch);
    read_database_bounds(env, cfg);
    read_cluster(env, cfg);
    read_forward_timeout(env, cfg);
  } catch (const config_error& e) {
    return "configuration error: " + e.line;
  }
  return cfg;
}

std::variant<dlq_config, std::string> load_dlq_config(const env_lookup& env) {
  dlq_config cfg;
  try {
    cfg.kafka_brokers = required(env, "KAFKA_BROKERS");
    if (auto g = env("DLQ_GROUP_ID")) {
      if (g->empty())
        throw config_error{"DLQ_GROUP_ID must not be empty"};
      cfg.group_id = *g;
    }
    read_int(env, "DLQ_MAX_REDRIVES", 1, 1000, cfg.max_redrives);
  } catch (const config_error& e) {
    return "configuration error: " + e.line;
  }
  return cfg;
}

time_budgets budgets_of(const config& cfg) {
  time_budgets b{};
  b.db_call = cfg.db.statement_timeout + db_call_grace;
  b.order_step = b.db_call;
  b.owner_command = 2 * b.order_step;
  b.forward = cfg.cluster_forward_timeout.count() > 0 ? cfg.cluster_forward_timeout
                                                      : b.owner_command + forward_margin;
  b.event_request = b.forward + forward_margin;
  b.http_request = http_request_timeout;
  return b;
}

std::map<std::string, std::string> read_dotenv(const std::string& path) {
  std::map<std::string, std::string> vars;
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') // written on Windows
      line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    auto eq = line.find('=', first);
    if (eq == std::string::npos)
      continue;
    auto key = line.substr(first, eq - first);
    if (key.rfind("export ", 0) == 0)
      key = key.substr(7);
    auto value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')
        && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    vars[key] = value;
  }
  return vars;
}

env_lookup environment_with(std::map<std::string, std::string> dotenv) {
  return [dotenv = std::move(dotenv)](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str()))
      return std::string{v};
    auto i = dotenv.find(name);
    if (i != dotenv.end())
      return i->second;
    return std::nullopt;
  };
}

} // namespace flashsale
