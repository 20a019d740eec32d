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

void read_seconds(const env_lookup& env, const std::string& name, std::chrono::seconds& value) {
  long n = value.count();
  read_int(env, name, 1, 365L * 24 * 3600, n);
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
  cfg.http_host = text->substr(0, colon);
  cfg.http_port = static_cast<std::uint16_t>(*port);
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

/// NODE_ID and CLUSTER_HOST, with defaults that differ per process and per machine.
void read_cluster(const env_lookup& env, config& cfg) {
  cfg.node_id = host_name() + "-" + std::to_string(getpid());
  if (auto id = env("NODE_ID")) {
    if (id->empty() || id->size() > 128)
      throw config_error{"NODE_ID must be 1-128 characters, got " + quoted(*id)};
    cfg.node_id = *id;
  }
  const auto& h = cfg.http_host;
  cfg.cluster_host =
    (h.empty() || h == "0.0.0.0" || h == "*" || h == "::" || h == "[::]") ? host_name() : h;
  if (auto host = env("CLUSTER_HOST")) {
    if (host->empty())
      throw config_error{"CLUSTER_HOST must not be empty"};
    cfg.cluster_host = *host;
  }
  read_int(env, "CAF_NODE_PORT", 0, 65535, cfg.caf_node_port);
  read_millis(env, "CLUSTER_HEARTBEAT_MS", 50, 60000, cfg.cluster_heartbeat);
  read_millis(env, "CLUSTER_TIMEOUT_MS", 100, 600000, cfg.cluster_timeout);
  read_millis(env, "CLUSTER_FORWARD_TIMEOUT_MS", 10, 60000, cfg.cluster_forward_timeout);
  if (cfg.cluster_timeout <= cfg.cluster_heartbeat)
    throw config_error{"CLUSTER_TIMEOUT_MS must be greater than CLUSTER_HEARTBEAT_MS"};
}

} // namespace

std::variant<config, std::string> load_config(const env_lookup& env) {
  config cfg;
  try {
    cfg.database_url = required(env, "DATABASE_URL");
    cfg.kafka_brokers = required(env, "KAFKA_BROKERS");
    read_http_addr(env, cfg);
    read_roles(env, cfg);
    read_int(env, "OUTBOX_RELAYS", 0, 64, cfg.outbox_relays);
    read_int(env, "OUTBOX_BATCH", 1, 10000, cfg.outbox_batch);
    read_int(env, "OUTBOX_MAX_RETRIES", 1, 1000, cfg.outbox_max_retries);
    read_seconds(env, "OUTBOX_RETENTION_S", cfg.outbox_retention);
    read_millis(env, "OUTBOX_POLL_MS", 10, 60000, cfg.outbox_poll);
    read_seconds(env, "ORDER_TTL_CREATED_S", cfg.ttl_created);
    read_seconds(env, "ORDER_TTL_RESERVED_S", cfg.ttl_reserved);
    read_seconds(env, "ORDER_TTL_PAYMENT_PENDING_S", cfg.ttl_payment_pending);
    if (auto g = env("KAFKA_GROUP_ID")) {
      if (g->empty())
        throw config_error{"KAFKA_GROUP_ID must not be empty"};
      cfg.kafka_group_id = *g;
    }
    read_choice(env, "LOG_LEVEL", {"debug", "info", "warn", "error"}, cfg.log_level);
    read_choice(env, "LOG_FORMAT", {"json", "text"}, cfg.log_format);
    read_int(env, "DB_WRITERS", 1, 32, cfg.db_writers);
    read_int(env, "DB_READERS", 1, 32, cfg.db_readers);
    read_int(env, "DB_MAX_BATCH", 1, 10000, cfg.db_max_batch);
    read_int(env, "HTTP_THREADS", 1, 64, cfg.http_threads);
    read_seconds(env, "HTTP_KEEPALIVE_TIMEOUT_S", cfg.http_keepalive_timeout);
    read_seconds(env, "ORDER_PASSIVATE_S", cfg.passivate_after);
    read_cluster(env, cfg);
  } catch (const config_error& e) {
    return "configuration error: " + e.line;
  }
  return cfg;
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
