#include "app/service.hpp"

#include "app/relay_settings.hpp"

#include "actors/cluster/cluster.hpp"
#include "actors/cluster/cluster_gate.hpp"
#include "actors/cluster/cluster_join.hpp"
#include "actors/order/db_actors.hpp"
#include "actors/order/expiry_sweeper.hpp"
#include "actors/health_monitor.hpp"
#include "http/http_bridge.hpp"
#include "actors/saga/held_dlq.hpp"
#include "actors/saga/inbox_janitor.hpp"
#include "actors/saga/kafka_consumer.hpp"
#include "actors/log.hpp"
#include "actors/order/order_registry.hpp"
#include "actors/cluster/order_router.hpp"
#include "actors/outbox/outbox_relay.hpp"
#include "actors/stop.hpp"
#include "actors/cluster/wire_format.hpp"
#include "http/server.hpp"
#include "metrics/metrics.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include <csignal>

namespace flashsale {

namespace {

constexpr std::chrono::milliseconds health_interval{1000};
constexpr std::size_t bridge_actors = 2;

order_settings order_settings_from(const config& cfg) {
  order_settings s = cfg.order;
  s.db_timeout = budgets_of(cfg).order_step;
  return s;
}

consumer_settings consumer_settings_from(const config& cfg) {
  consumer_settings s = cfg.consumer;
  s.kafka_brokers = cfg.kafka_brokers;
  s.database_url = cfg.database_url;
  s.node_id = cfg.node_id;
  s.static_membership = cfg.node_id_given;
  s.request_timeout = budgets_of(cfg).event_request;
  return s;
}

inbox_janitor_settings inbox_janitor_settings_from(const config& cfg) {
  inbox_janitor_settings s;
  s.database_url = cfg.database_url;
  s.db_limits = database_limits(cfg);
  s.retention = cfg.inbox_retention;
  s.interval = cfg.inbox_janitor_interval;
  s.batch = static_cast<std::size_t>(cfg.inbox_janitor_batch);
  return s;
}

expiry_settings expiry_settings_from(const config& cfg) {
  expiry_settings s;
  s.database_url = cfg.database_url;
  s.request_timeout = budgets_of(cfg).event_request;
  return s;
}

cluster_settings cluster_settings_from(const config& cfg, std::uint16_t caf_port) {
  cluster_settings s;
  s.database_url = cfg.database_url;
  s.node_id = cfg.node_id;
  s.host = cfg.cluster_host;
  s.caf_port = caf_port;
  if (cfg.enabled.http)
    s.http_url = "http://" + cfg.cluster_host + ":" + std::to_string(cfg.http.port);
  static_cast<cluster_timing&>(s) = cfg.cluster;
  s.tls = {cfg.cluster_tls_ca, cfg.cluster_tls_cert, cfg.cluster_tls_key};
  s.insecure = cfg.cluster_insecure;
  return s;
}

/// Publishes the gate in front of `registry` on CLUSTER_HOST, into `gate` and
/// `cluster.caf_port`, only when the operator chose how peers talk (CLUSTER_TLS_* or
/// CLUSTER_INSECURE=1): otherwise this node has no cluster port at all (CONTRACT §7),
/// for a plain CAF client could read and change any order on it. False (logged) when
/// the port cannot be opened.
bool open_cluster_port(caf::actor_system& sys, const config& cfg, cluster_settings& cluster,
                       const order_api& registry, caf::actor& gate) {
  if (!cluster.peers_allowed()) {
    if (cfg.caf_node_port != 0)
      log::warn("CAF_NODE_PORT is set, but no cluster port is opened without CLUSTER_TLS_* "
                "or CLUSTER_INSECURE=1",
                {{"node_id", cfg.node_id}, {"caf_node_port", std::to_string(cfg.caf_node_port)}});
    return true;
  }
  gate = spawn_cluster_gate(sys, registry);
  auto port = publish_cluster_endpoint(sys, gate, cfg.cluster_host, cfg.caf_node_port,
                                       cluster.tls.enabled());
  if (!port) {
    log::error("cannot publish the order registry",
               {{"addr", cfg.cluster_host + ":" + std::to_string(cfg.caf_node_port)},
                {"error", sys.render(port.error())}});
    return false;
  }
  cluster.caf_port = *port;
  return true;
}

/// Blocks SIGINT and SIGTERM in every thread started from here on, so that only
/// wait_for_stop() receives them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int wait_for_stop(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

} // namespace

int serve(const config& given) {
  // Every component's connection carries the configured bounds (connect_timeout,
  // keepalives, tcp_user_timeout, statement_timeout) in its conninfo.
  config cfg = given;
  auto limits = database_limits(cfg);
  cfg.database_url = persistence::with_connection_limits(cfg.database_url, limits);
  auto stop_signals = block_stop_signals();
  metrics_registry metrics; // outlives the actor system: actors record into it
  caf::actor_system_config caf_cfg;
  caf_cfg.set("logger.console", caf::atom("none"));
  // Many nodes: the registry is published to the peers, commands cross nodes.
  caf_cfg.load<caf::io::middleman>();
  auto cluster = cluster_settings_from(cfg, 0);
  if (auto bad = check_cluster_tls(cluster.tls)) {
    log::error("configuration error: " + *bad);
    return 1;
  }
  configure_cluster_transport(caf_cfg, cluster.tls); // CAF's OpenSSL module when TLS is on
  add_cluster_message_types(caf_cfg);
  // Work stealing polls with short sleeps when idle; on 2 cores shared with PostgreSQL
  // that burned ~20% of the service's CPU in nanosleep. The sharing policy blocks on a
  // condition variable: measured 4-26% more creates/s with a lower p99 (docs/BENCHMARKS.md).
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{caf_cfg};
  auto health = std::make_shared<health_state>();
  // /readyz as metrics, so that an alert can see it flap (docs/alerts.yml).
  metrics.add_gauge("service_ready", "1 while /readyz answers 200: database and Kafka reachable",
                    [health] { return health->ready() ? 1.0 : 0.0; });
  metrics.add_gauge("dependency_up", "1 while the dependency answered the last probe (every second)",
                    [health] { return health->database_ok.load() ? 1.0 : 0.0; },
                    {{"dependency", "database"}});
  metrics.add_gauge("dependency_up", "1 while the dependency answered the last probe (every second)",
                    [health] { return health->kafka_ok.load() ? 1.0 : 0.0; },
                    {{"dependency", "kafka"}});

  auto writers = spawn_db_writers(sys, cfg.database_url, cfg.db_writers, cfg.db_max_batch,
                                  &metrics, limits);
  auto readers = spawn_db_readers(sys, cfg.database_url, cfg.db_readers, limits);
  auto held_dlq = spawn_held_dlq(sys, {cfg.kafka_brokers}, metrics);
  // Which shards this node owns, as Kafka's group assigns them (DESIGN.md "Many nodes").
  std::shared_ptr<shard_ownership> shards;
  if (cfg.enabled.owns_shards())
    shards = std::make_shared<shard_ownership>();
  health->shards = shards;
  auto registry =
    spawn_order_registry(sys, {writers, readers, held_dlq, shards}, order_settings_from(cfg));
  // Many nodes (DESIGN.md): peers reach this node's registry through its gate on the
  // cluster port, if it has one; the router in front of the registry sends each command
  // to the order's owner. The bridge, the consumer and the sweeper talk to the router.
  caf::actor gate;
  bool opened = open_cluster_port(sys, cfg, cluster, registry, gate);
  auto refusal = opened ? refuse_to_join(cluster) : std::nullopt;
  if (!opened || refusal) {
    if (refusal)
      log::error("configuration error: " + *refusal);
    for (const auto& a : {gate, caf::actor_cast<caf::actor>(registry), readers, writers, held_dlq})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    return 1;
  }
  auto view = std::make_shared<cluster_view>(cfg.node_id);
  auto member = spawn_cluster_member(sys, cluster, view, gate, metrics);
  auto router = spawn_order_router(sys, registry, view, shards, {budgets_of(cfg).forward}, metrics);
  auto monitor = spawn_health_monitor(sys, cfg.database_url, cfg.kafka_brokers, health,
                                      health_interval);
  caf::actor consumer;
  caf::actor inbox_janitor; // the consumer's inbox: forgets event ids past their window
  caf::actor sweeper;
  if (shards) { // the saga events and the deadlines of the shards this node owns
    consumer =
      spawn_kafka_consumer(sys, consumer_settings_from(cfg), router, {shards, registry}, metrics);
    inbox_janitor = spawn_inbox_janitor(sys, inbox_janitor_settings_from(cfg), metrics);
    sweeper = spawn_expiry_sweeper(sys, expiry_settings_from(cfg), registry, shards, metrics);
  }
  caf::actor relays;
  if (cfg.enabled.relay)
    relays = spawn_outbox_relays(sys, relay_settings_from(cfg), metrics, &health->outbox);

  std::unique_ptr<http::server> api;
  caf::actor bridge;
  // Stops everything in dependency order; the actor system's destructor then waits
  // for every actor to be gone. HTTP first stops accepting and answers what it took
  // (every answer comes within the bridge's timeout), and only then goes away.
  auto shut_down = [&] {
    if (api) {
      auto started = std::chrono::steady_clock::now();
      int left = api->drain(budgets_of(cfg).http_request + forward_margin);
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
      log::info("http drained", {{"unanswered", std::to_string(left)},
                                 {"ms", std::to_string(took.count())}});
    }
    stop_cluster_member(sys, member); // peers take this node's orders over at once
    // These use `metrics`: wait until they are gone. The consumer commits what is done.
    stop_and_wait(sys, consumer);
    stop_and_wait(sys, inbox_janitor);
    stop_and_wait(sys, sweeper);
    stop_and_wait(sys, relays); // each finishes or rolls back its batch
    if (api)
      api->stop();
    for (const auto& a : {bridge, caf::actor_cast<caf::actor>(router),
                          caf::actor_cast<caf::actor>(registry), readers, writers, held_dlq,
                          monitor})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };
  if (cfg.enabled.http) {
    bridge = spawn_http_bridge(sys, {router, writers, readers, budgets_of(cfg).http_request},
                               bridge_actors);
    http::server_settings hs = cfg.http;
    hs.ttl_created = cfg.order.ttl_created;
    api = std::make_unique<http::server>(hs, bridge, metrics, health);
    try {
      api->start();
    } catch (const std::exception& e) {
      log::error("cannot listen", {{"addr", cfg.http.host + ":" + std::to_string(cfg.http.port)},
                                   {"error", e.what()}});
      api.reset();
      shut_down();
      return 1;
    }
    log::info("http listening",
              {{"addr", cfg.http.host + ":" + std::to_string(api->port())},
               {"max_connections", std::to_string(api->max_connections())},
               {"max_in_flight", std::to_string(cfg.http.max_in_flight)},
               {"admission", cfg.http.admission.enabled ? "adaptive" : "static"}});
    if (api->max_connections() < cfg.http.connections.max_connections)
      log::warn("HTTP_MAX_CONNECTIONS lowered to what the descriptor limit (ulimit -n) allows",
                {{"wanted", std::to_string(cfg.http.connections.max_connections)},
                 {"cap", std::to_string(api->max_connections())}});
  }

  int sig = wait_for_stop(stop_signals);
  log::info("stopping", {{"signal", std::to_string(sig)}});
  shut_down();
  return 0;
}

} // namespace flashsale
