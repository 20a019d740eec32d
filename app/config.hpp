#pragma once
// The service's configuration: one documented source (CONTRACT §2). Each component's
// settings struct owns its defaults, next to the variable names that set them; config
// composes those structs and writes only the defaults that belong to no component.

#include "actors/cluster/cluster_timing.hpp"
#include "actors/order/order_settings.hpp"
#include "actors/outbox/relay_settings.hpp"
#include "actors/saga/consumer_settings.hpp"
#include "http/server_settings.hpp"
#include "persistence/pg_limits.hpp"

#include <chrono>
#include <cstddef>
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
  /// A node that takes creates, saga events or deadlines owns shards (DESIGN.md "Many
  /// nodes"): it joins the shards' group, and for the shards it owns it consumes their
  /// saga events and sweeps their deadlines, whichever of the three it was given.
  bool owns_shards() const { return http || consumer || expiry; }
};

struct config {
  std::string database_url;                      // DATABASE_URL (required)
  std::string kafka_brokers;                     // KAFKA_BROKERS (required)
  http::server_settings http;   // HTTP_ADDR, HTTP_THREADS, HTTP_KEEPALIVE_TIMEOUT_S,
                                // HTTP_MAX_CONNECTIONS, HTTP_HEADER/BODY/WRITE_TIMEOUT_MS,
                                // HTTP_MAX_IN_FLIGHT
  roles enabled;                // ORDER_ROLES
  relay_settings outbox;        // OUTBOX_RELAYS, OUTBOX_BATCH, OUTBOX_RETENTION_S, OUTBOX_POLL_MS
  order_settings order;         // ORDER_TTL_CREATED_S, ORDER_TTL_RESERVED_S,
                                // ORDER_TTL_PAYMENT_PENDING_S, ORDER_PASSIVATE_S
  consumer_settings consumer;   // KAFKA_GROUP_ID, CONSUMER_MAX_IN_FLIGHT
  std::string log_level = "info";                // LOG_LEVEL: debug|info|warn|error
  std::string log_format = "json";               // LOG_FORMAT: json|text
  // Tuning, documented in README:
  int db_writers = 2;                            // DB_WRITERS: group-commit writers
  int db_readers = 2;                            // DB_READERS
  int db_max_batch = 256;                        // DB_MAX_BATCH: commands per commit
  // The consumer's inbox (processed_events) forgets an event_id after this long. 14 days:
  // Kafka deletes a message only once its whole segment is older than log.retention.hours
  // (default 168 h = 7 days) and a segment rolls after log.roll.hours (default 168 h), so
  // a message can stay on a topic, and be redelivered, up to ~14 days after it was written.
  std::chrono::seconds inbox_retention{14 * 24 * 3600};  // INBOX_RETENTION_S
  std::chrono::milliseconds inbox_janitor_interval{10000}; // INBOX_JANITOR_INTERVAL_MS
  int inbox_janitor_batch = 1000;                // INBOX_JANITOR_BATCH: rows per DELETE

  // Bounds on every PostgreSQL connection (docs/OPERATIONS.md "Database blackholed"):
  // DB_CONNECT_TIMEOUT_S, DB_STATEMENT_TIMEOUT_MS, DB_TCP_USER_TIMEOUT_MS, DB_KEEPALIVE_IDLE_S
  persistence::pg_limits db;

  // Many nodes (DESIGN.md), documented in README:
  std::string node_id;             // NODE_ID (default: hostname-pid)
  bool node_id_given = false;      // NODE_ID set: static membership in the shards' group
  std::string cluster_host;        // CLUSTER_HOST (default: HTTP host, or hostname)
  std::uint16_t caf_node_port = 0; // CAF_NODE_PORT: registry endpoint, 0 = any
  cluster_timing cluster;          // CLUSTER_HEARTBEAT_MS, CLUSTER_TIMEOUT_MS
  // Mutual TLS between nodes (CONTRACT §7): all three PEM paths or none.
  std::string cluster_tls_ca;   // CLUSTER_TLS_CA: the CA whose certificates peers must show
  std::string cluster_tls_cert; // CLUSTER_TLS_CERT: this node's certificate (chain)
  std::string cluster_tls_key;  // CLUSTER_TLS_KEY: its private key, unencrypted
  bool cluster_insecure = false; // CLUSTER_INSECURE=1: several nodes in plaintext (trusted net)
  // CLUSTER_FORWARD_TIMEOUT_MS; 0 (unset) = derived, see time_budgets.
  std::chrono::milliseconds cluster_forward_timeout{0};
};

/// The `dlq` subcommand's settings (it needs no database).
struct dlq_config {
  std::string kafka_brokers;                            // KAFKA_BROKERS (required)
  std::string group_id = "order-service-dlq-redrive";   // DLQ_GROUP_ID: the replay's progress
  int max_redrives = 3;                                 // DLQ_MAX_REDRIVES: replays per message
};

/// How long each part waits for the next, all derived here from DB_STATEMENT_TIMEOUT_MS
/// so that they stay consistent (docs/OPERATIONS.md "Time budgets"):
///   db_call       = statement_timeout + db_call_grace   a blocking call is cut after this
///   order_step    = db_call                             an order actor waits for one load or commit
///   owner_command = 2 x order_step                      load + commit: the owner's own work
///   forward       > owner_command                       a forwarded cancel or event waits for the owner;
///                                                        a silent owner: 503 (cancel) or a retry (event)
///   event_request = forward + margin                    the consumer and the sweeper wait this long
/// The HTTP bridge answers 503 after http_request whatever the rest still does, except a
/// create: it must reach COMMIT by http_request - 1 s and is answered by what became of
/// its transaction (actors/http_bridge.hpp).
struct time_budgets {
  std::chrono::milliseconds db_call;
  std::chrono::milliseconds order_step;
  std::chrono::milliseconds owner_command;
  std::chrono::milliseconds forward;
  std::chrono::milliseconds event_request;
  std::chrono::milliseconds http_request;
};

constexpr std::chrono::milliseconds db_call_grace = persistence::pg_limits{}.call_grace;
constexpr std::chrono::milliseconds forward_margin{1000}; // the answer's way back
constexpr std::chrono::milliseconds http_request_timeout{5000};

time_budgets budgets_of(const config& cfg);

using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Reads and checks every variable. On error, returns one line naming the variable.
std::variant<config, std::string> load_config(const env_lookup& lookup);

/// Reads the `dlq` subcommand's variables. On error, one line naming the variable.
std::variant<dlq_config, std::string> load_dlq_config(const env_lookup& lookup);

/// KEY=VALUE lines of a .env file (comments, blank lines and optional quotes allowed);
/// empty when the file does not exist.
std::map<std::string, std::string> read_dotenv(const std::string& path);

/// The process environment, falling back to `dotenv`.
env_lookup environment_with(std::map<std::string, std::string> dotenv);

} // namespace flashsale
