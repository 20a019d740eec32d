#pragma once
// The service's configuration: one documented source (CONTRACT §2). Defaults live
// here, next to the variable names.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace flashsale {

struct roles {
  bool http = true;
  bool relay = true;
  bool consumer = true;
  bool expiry = true;
};

struct config {
  std::string database_url;                      // DATABASE_URL (required)
  std::string kafka_brokers;                     // KAFKA_BROKERS (required)
  std::string http_host = "0.0.0.0";             // HTTP_ADDR host part
  std::uint16_t http_port = 8080;                // HTTP_ADDR port part
  roles enabled;                                 // ORDER_ROLES
  int outbox_relays = 4;                         // OUTBOX_RELAYS
  int outbox_batch = 256;                        // OUTBOX_BATCH
  int outbox_max_retries = 10;                   // OUTBOX_MAX_RETRIES: failed sends before DEAD
  std::chrono::seconds outbox_retention{3600};   // OUTBOX_RETENTION_S: keep SENT rows
  std::chrono::milliseconds outbox_poll{1000};   // OUTBOX_POLL_MS: fallback poll without NOTIFY
  std::chrono::seconds ttl_created{300};         // ORDER_TTL_CREATED_S
  std::chrono::seconds ttl_reserved{120};        // ORDER_TTL_RESERVED_S
  std::chrono::seconds ttl_payment_pending{600}; // ORDER_TTL_PAYMENT_PENDING_S
  std::string kafka_group_id = "order-service";  // KAFKA_GROUP_ID
  std::string log_level = "info";                // LOG_LEVEL: debug|info|warn|error
  std::string log_format = "json";               // LOG_FORMAT: json|text
  // Tuning, documented in README:
  int db_writers = 2;                            // DB_WRITERS: group-commit writers
  int db_readers = 2;                            // DB_READERS
  int db_max_batch = 256;                        // DB_MAX_BATCH: commands per commit
  int http_threads = 2;                          // HTTP_THREADS
  std::chrono::seconds http_keepalive_timeout{75}; // HTTP_KEEPALIVE_TIMEOUT_S: idle connections
  std::chrono::seconds passivate_after{30};      // ORDER_PASSIVATE_S

  // Many nodes (DESIGN.md), documented in README:
  std::string node_id;             // NODE_ID (default: hostname-pid)
  std::string cluster_host;        // CLUSTER_HOST (default: HTTP host, or hostname)
  std::uint16_t caf_node_port = 0; // CAF_NODE_PORT: registry endpoint, 0 = any
  std::chrono::milliseconds cluster_heartbeat{1000};       // CLUSTER_HEARTBEAT_MS
  std::chrono::milliseconds cluster_timeout{5000};         // CLUSTER_TIMEOUT_MS
  std::chrono::milliseconds cluster_forward_timeout{2000}; // CLUSTER_FORWARD_TIMEOUT_MS
};

using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Reads and checks every variable. On error, returns one line naming the variable.
std::variant<config, std::string> load_config(const env_lookup& lookup);

/// KEY=VALUE lines of a .env file (comments, blank lines and optional quotes allowed);
/// empty when the file does not exist.
std::map<std::string, std::string> read_dotenv(const std::string& path);

/// The process environment, falling back to `dotenv`.
env_lookup environment_with(std::map<std::string, std::string> dotenv);

} // namespace flashsale
