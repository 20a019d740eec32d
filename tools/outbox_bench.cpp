// flashsale-outbox-bench: how fast the outbox relay pool moves events to Kafka.
//
//   drain mode (default): pre-fills N events of M orders with one multi-row insert,
//     then times the relay pool until every event is acknowledged by Kafka and marked
//     SENT (deleted with --retention 0), for each relay count; prints a table of events/s.
//   lag mode (--rate R): commits R events/s in small group commits (as the service's
//     writers do, with NOTIFY) for --seconds S and reports the relay lag (commit ->
//     Kafka acknowledgement) percentiles.
//
// Needs DATABASE_URL (any database on the server: the bench creates and migrates its
// own database, flashsale_outbox_bench, and drops it at the end) and KAFKA_BROKERS.

#include "actors/log.hpp"
#include "actors/outbox/outbox_relay.hpp"
#include "actors/stop.hpp"
#include "metrics/metrics.hpp"
#include "messages/trace_context.hpp"
#include "messages/uuid.hpp"
#include "persistence/migrator.hpp"
#include "persistence/order_repository.hpp"
#include "persistence/outbox_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace flashsale;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* bench_db = "flashsale_outbox_bench";

struct options {
  std::size_t events = 50000;
  std::size_t orders = 5000;
  std::vector<std::size_t> relays{1, 2, 4, 8};
  std::size_t batch = relay_settings{}.batch; // OUTBOX_BATCH
  bool heads_only = false; // claim one event per order and batch (DESIGN.md's rule)
  int max_in_flight = relay_settings{}.max_in_flight; // produce requests per connection
  double rate = 0;         // events/s; 0 = drain mode
  std::size_t warmup = 50000; // drain mode: events drained once, unmeasured, first
  std::chrono::seconds retention = relay_settings{}.retention; // 0: delivered rows deleted
  int seconds = 10;
  std::string migrations = FLASHSALE_MIGRATIONS_DIR;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: flashsale-outbox-bench [--events N] [--orders M] [--relays 1,2,4,8]\n"
               "                              [--batch B] [--heads-only 1] [--max-in-flight N]\n"
               "                              [--rate R --seconds S] [--warmup EVENTS]\n"
               "                              [--retention S] [--migrations DIR]\n"
               "Env: DATABASE_URL (the server; the bench uses its own database "
               "%s), KAFKA_BROKERS.\n",
               bench_db);
  std::exit(code);
}

std::vector<std::size_t> parse_list(const std::string& text) {
  std::vector<std::size_t> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(std::stoul(item));
  return out;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h")
      usage(0);
    if (i + 1 >= argc)
      usage(2);
    std::string v = argv[++i];
    if (arg == "--events")
      o.events = std::stoul(v);
    else if (arg == "--orders")
      o.orders = std::stoul(v);
    else if (arg == "--relays")
      o.relays = parse_list(v);
    else if (arg == "--batch")
      o.batch = std::stoul(v);
    else if (arg == "--heads-only")
      o.heads_only = v == "1" || v == "true";
    else if (arg == "--max-in-flight")
      o.max_in_flight = std::stoi(v);
    else if (arg == "--rate")
      o.rate = std::stod(v);
    else if (arg == "--seconds")
      o.seconds = std::stoi(v);
    else if (arg == "--warmup")
      o.warmup = std::stoul(v);
    else if (arg == "--migrations")
      o.migrations = v;
    else if (arg == "--retention")
      o.retention = std::chrono::seconds{std::stol(v)};
    else
      usage(2);
  }
  if (o.orders == 0 || o.events < o.orders || o.relays.empty())
    usage(2);
  return o;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    std::fprintf(stderr, "%s is required\n", name);
    std::exit(2);
  }
  return v;
}

/// `url` naming database `name` (URI or key=value form).
std::string on_database(const std::string& url, const std::string& name) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return url + " dbname=" + name;
  auto query = url.find('?', scheme + 3);
  auto path = url.find('/', scheme + 3);
  auto host_end = path != std::string::npos && path < query ? path : query;
  if (host_end == std::string::npos)
    host_end = url.size();
  return url.substr(0, host_end) + "/" + name
         + (query == std::string::npos ? "" : url.substr(query));
}

std::string create_bench_database(const std::string& server_url, const std::string& migrations) {
  {
    pqxx::connection admin{server_url};
    pqxx::nontransaction tx{admin};
    tx.exec(std::string{"DROP DATABASE IF EXISTS "} + bench_db + " WITH (FORCE)");
    tx.exec(std::string{"CREATE DATABASE "} + bench_db);
  }
  auto url = on_database(server_url, bench_db);
  persistence::migrator{url, migrations}.up();
  return url;
}

void drop_bench_database(const std::string& server_url) {
  pqxx::connection admin{server_url};
  pqxx::nontransaction tx{admin};
  tx.exec(std::string{"DROP DATABASE IF EXISTS "} + bench_db + " WITH (FORCE)");
}

/// An ORDER_CREATED-sized envelope (~450 bytes); rows carry a traceparent as the
/// service writes them (migration 000011), so the relay sends every header of §5.
std::string envelope(const std::string& event_id, const std::string& order_id) {
  return R"({"event_id":")" + event_id
         + R"(","event_type":"ORDER_CREATED","occurred_at":"2026-01-01T00:00:00.000Z",)"
           R"("schema_version":1,"payload":{"order_id":")"
         + order_id
         + R"(","user_id":"0191f1a0-0000-7000-8000-000000000001","total_amount":25.00,)"
           R"("currency":"EUR","items":[{"sku_id":"sku-1","quantity":2,"price":12.50},)"
           R"({"sku_id":"sku-2","quantity":1,"price":0.00}],)"
           R"("created_at":"2026-01-01T00:00:00.000Z"}})";
}

/// Commits `events` events of `orders` orders in one transaction (without NOTIFY: the
/// caller wakes the relays when the clock starts), interleaved like real traffic: round k holds the
/// k-th event of every order, in random order.
void insert_events(pqxx::connection& conn, std::size_t events, std::size_t orders,
                   std::mt19937& rng) {
  std::vector<std::string> ids(orders);
  for (auto& id : ids)
    id = new_uuid();
  pqxx::work tx{conn};
  std::string values;
  values.reserve(events * 620);
  for (std::size_t done = 0; done < events;) {
    std::shuffle(ids.begin(), ids.end(), rng);
    for (std::size_t i = 0; i < ids.size() && done < events; ++i, ++done) {
      auto event_id = new_uuid();
      values += (values.empty() ? "('" : ",('") + event_id + "','" + ids[i] + "','ORDER_CREATED',"
                + tx.quote(envelope(event_id, ids[i])) + ",'" + next_traceparent({}) + "')";
    }
  }
  tx.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload, "
          "traceparent) VALUES "
          + values);
  tx.commit();
}

std::int64_t scalar(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx{conn};
  return tx.exec1(sql)[0].as<std::int64_t>();
}

double metric(const metrics_registry& m, const std::string& name) {
  std::istringstream text{m.render()};
  std::string line;
  while (std::getline(text, line))
    if (line.rfind(name + " ", 0) == 0)
      return std::stod(line.substr(name.size() + 1));
  return 0;
}

relay_settings settings(const std::string& url, std::size_t relays, const options& o) {
  relay_settings s;
  s.database_url = url;
  s.kafka_brokers = env("KAFKA_BROKERS");
  s.relays = relays;
  s.batch = o.batch;
  s.claim_runs = !o.heads_only;
  s.max_in_flight = o.max_in_flight;
  s.retention = o.retention;
  return s;
}

struct drain_result {
  double seconds = 0;
  double claims = 0;
  double empty_claims = 0;
  double contended = 0;
};

/// Waits until every relay found the outbox empty: producers created, topic metadata
/// fetched, LISTEN in place.
void warm_up(const metrics_registry& metrics, std::size_t relays) {
  while (metric(metrics, "outbox_claims_empty_total") < static_cast<double>(relays))
    std::this_thread::sleep_for(1ms);
}

/// Starts the pool on an empty outbox and waits until it is idle, then commits the
/// backlog with one multi-row insert, analyzes the table as a long-running one would
/// be, and wakes the relays with NOTIFY: the clock runs from that NOTIFY to the last
/// event acknowledged by Kafka and committed SENT.
drain_result drain(const std::string& url, std::size_t relays, const options& o) {
  pqxx::connection conn{url};
  {
    pqxx::nontransaction tx{conn};
    tx.exec("TRUNCATE outbox_events");
  }
  metrics_registry metrics; // outlives the actor system
  caf::actor_system_config cfg;
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto s = settings(url, relays, o);
  s.poll_interval = 600s; // only the NOTIFY below may start the drain
  auto pool = spawn_outbox_relays(sys, s, metrics);
  warm_up(metrics, relays);
  std::mt19937 rng{42};
  insert_events(conn, o.events, o.orders, rng);
  {
    pqxx::nontransaction tx{conn};
    tx.exec("ANALYZE outbox_events");
  }
  auto start = clock_type::now();
  {
    pqxx::nontransaction tx{conn};
    tx.exec(std::string{"NOTIFY "} + persistence::outbox_channel);
  }
  if (std::getenv("OUTBOX_BENCH_MARK")) // for a profiler: the clock runs from here
    std::fprintf(stderr, "draining %zu events\n", o.events);
  while (metric(metrics, "outbox_published_total") < static_cast<double>(o.events))
    std::this_thread::sleep_for(1ms);
  drain_result r;
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.claims = metric(metrics, "outbox_batch_size_count");
  r.empty_claims = metric(metrics, "outbox_claims_empty_total") - static_cast<double>(relays);
  r.contended = metric(metrics, "outbox_claim_contention_total");
  stop_and_wait(sys, pool);
  if (s.retention.count() > 0) {
    // The janitor's work on these rows, done now so that a profile of the run
    // (pg_stat_statements: tools/bench_delivery_record.sh) counts it too.
    while (persistence::delete_sent_outbox_rows(conn, 0s, s.janitor_chunk) > 0) {
    }
  }
  auto pending = scalar(conn, "SELECT count(*) FROM outbox_events WHERE status <> 'SENT'");
  if (pending != 0)
    std::fprintf(stderr, "warning: %lld rows neither SENT nor deleted after the drain\n",
                 static_cast<long long>(pending));
  return r;
}

void run_drain(const std::string& url, const options& o) {
  std::printf("drain: %zu events of %zu orders (%zu per order), OUTBOX_BATCH=%zu, claiming %s\n\n",
              o.events, o.orders, o.events / o.orders, o.batch,
              o.heads_only ? "one event per order and batch" : "each order's pending run");
  if (o.warmup > 0) {
    // A broker and a database that have just started are slower for their first tens
    // of thousands of events (the JVM compiles the broker's hot paths, caches fill): a
    // deployed service runs against warm ones, so the first drain is not counted.
    auto w = o;
    w.events = std::max(o.warmup, o.orders);
    auto r = drain(url, o.relays.front(), w);
    std::printf("warm-up (not counted): %zu events, %zu relays, %.0f events/s\n\n", w.events,
                o.relays.front(), static_cast<double>(w.events) / r.seconds);
  }
  std::printf("| relays | seconds | events/s | batches | empty claims | contended |\n");
  std::printf("|-------:|--------:|---------:|--------:|-------------:|----------:|\n");
  for (auto n : o.relays) {
    auto r = drain(url, n, o);
    std::printf("| %6zu | %7.2f | %8.0f | %7.0f | %12.0f | %9.0f |\n", n, r.seconds,
                static_cast<double>(o.events) / r.seconds, r.claims, r.empty_claims, r.contended);
    std::fflush(stdout);
  }
}

/// Commits `rate` events/s, a group commit every `tick`, each event a new order's.
void produce_load(const std::string& url, double rate, int seconds) {
  constexpr auto tick = 5ms;
  pqxx::connection conn{url};
  auto start = clock_type::now();
  double due = 0;
  std::size_t written = 0;
  for (auto next = start; next < start + std::chrono::seconds{seconds}; next += tick) {
    std::this_thread::sleep_until(next);
    due += rate * std::chrono::duration<double>(tick).count();
    auto n = static_cast<std::size_t>(due) - written;
    if (n == 0)
      continue;
    std::string values;
    pqxx::work tx{conn};
    for (std::size_t i = 0; i < n; ++i) {
      auto order = new_uuid();
      auto event_id = new_uuid();
      values += (values.empty() ? "('" : ",('") + event_id + "','" + order + "','ORDER_CREATED',"
                + tx.quote(envelope(event_id, order)) + ",'" + next_traceparent({}) + "')";
    }
    tx.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload, "
          "traceparent) VALUES "
            + values);
    tx.exec(std::string{"SELECT pg_notify('"} + persistence::outbox_channel + "', '')");
    tx.commit();
    written += n;
  }
}

void run_lag(const std::string& url, const options& o) {
  for (auto n : o.relays) {
    {
      pqxx::connection conn{url};
      pqxx::nontransaction tx{conn};
      tx.exec("TRUNCATE outbox_events");
    }
    metrics_registry metrics;
    caf::actor_system_config cfg;
    cfg.set("logger.console", caf::atom("none"));
    caf::actor_system sys{cfg};
    auto pool = spawn_outbox_relays(sys, settings(url, n, o), metrics);
    warm_up(metrics, n);
    produce_load(url, o.rate, o.seconds);
    auto expected = o.rate * o.seconds;
    auto deadline = clock_type::now() + 30s;
    while (metric(metrics, "outbox_published_total") < expected - 1 && clock_type::now() < deadline)
      std::this_thread::sleep_for(5ms);
    auto& lag = metrics.get_histogram("outbox_relay_lag_seconds", "");
    std::printf("lag at %.0f events/s for %d s, %zu relays: %llu events, p50 <= %.4f s, "
                "p90 <= %.4f s, p99 <= %.4f s, p99.9 <= %.4f s (bucket bounds)\n",
                o.rate, o.seconds, n, static_cast<unsigned long long>(lag.count()),
                lag.quantile(0.5), lag.quantile(0.9), lag.quantile(0.99), lag.quantile(0.999));
    std::fflush(stdout);
    stop_and_wait(sys, pool);
  }
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  const char* level = std::getenv("LOG_LEVEL");
  log::configure(level ? level : "warn", "text");
  auto server = env("DATABASE_URL");
  auto url = create_bench_database(server, o.migrations);
  if (o.rate > 0)
    run_lag(url, o);
  else
    run_drain(url, o);
  drop_bench_database(server);
  return 0;
}
