// The outbox relay pool on a real PostgreSQL and the embedded Kafka broker, read back
// with a real Kafka consumer. Every test uses a fresh database and reads the topic from
// the offsets it had when the test began, keeping only its own orders' messages, since
// the broker is shared.

#include "actors/outbox/outbox_relay.hpp"
#include "actors/stop.hpp"
#include "kafka/producer.hpp"
#include "metrics/metrics.hpp"
#include "messages/uuid.hpp"
#include "persistence/order_repository.hpp"
#include "test_db.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <boost/test/unit_test.hpp>
#include <librdkafka/rdkafkacpp.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace flashsale;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

// -- waiting --------------------------------------------------------------------------

/// Polls `done` until it holds or `timeout` passes; fails the test naming `what` then.
void wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                const std::string& what) {
  auto deadline = clock_type::now() + timeout;
  while (!done()) {
    if (clock_type::now() >= deadline)
      BOOST_FAIL("timed out after " << timeout.count() << " ms waiting for " << what);
    std::this_thread::sleep_for(20ms);
  }
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// -- the database -----------------------------------------------------------------------

/// Counts rows of the test's outbox over one connection kept open, cheap enough to
/// poll while relays drain.
class outbox_probe {
public:
  explicit outbox_probe(const std::string& url) : conn_(url) {}

  std::int64_t count(const std::string& where = "true") {
    pqxx::nontransaction tx{conn_};
    return tx.exec1("SELECT count(*) FROM outbox_events WHERE " + where)[0].as<std::int64_t>();
  }
  std::int64_t pending() { return count("status = 'PENDING'"); }
  std::int64_t sent() { return count("status = 'SENT'"); }
  /// PENDING and SENT rows in one snapshot: pending() + sent() reads two, and a batch
  /// committed in between (e.g. by the backend of a relay just killed, which still
  /// finishes the COMMIT it received) would be counted twice.
  std::int64_t pending_or_sent() { return count("status IN ('PENDING', 'SENT')"); }

  /// Pending rows some relay holds leased right now: a batch in flight.
  std::int64_t leased() { return count("status = 'PENDING' AND claimed_until > now()"); }
  std::int64_t dead() { return count("status = 'DEAD'"); }

  /// Age in seconds of the oldest open transaction of another session on this database
  /// (the relays and the janitor), and of the oldest xmin they hold back (0 if none).
  std::pair<double, double> oldest_other_transaction() {
    pqxx::nontransaction tx{conn_};
    auto r = tx.exec1(
      "SELECT COALESCE(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8, "
      "       COALESCE(max(age(backend_xmin)), 0)::float8 "
      "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
      "AND xact_start IS NOT NULL");
    return {r[0].as<double>(), r[1].as<double>()};
  }

  /// Transactions begun on the server so far (txid_current() without taking one).
  std::int64_t next_xid() {
    pqxx::nontransaction tx{conn_};
    return tx.exec1("SELECT txid_snapshot_xmax(txid_current_snapshot())")[0].as<std::int64_t>();
  }

private:
  pqxx::connection conn_;
};

std::string envelope(const std::string& event_id, const std::string& order_id, std::size_t n,
                     std::size_t padding = 0) {
  return R"({"event_id":")" + event_id + R"(","event_type":"TEST_EVENT",)"
         + R"("occurred_at":"2026-01-01T00:00:00.000Z","schema_version":1,)"
         + R"("payload":{"order_id":")" + order_id + R"(","n":)" + std::to_string(n) + R"(,"pad":")"
         + std::string(padding, 'x') + R"("}})";
}

struct outbox_event {
  std::string event_id;
  std::string order_id;
  std::string payload;
};

/// What a test inserted: every event, and each order's event ids in commit order.
struct inserted_events {
  std::map<std::string, outbox_event> by_id;
  std::map<std::string, std::vector<std::string>> by_order;

  std::size_t size() const { return by_id.size(); }
};

/// Commits `per_order` events for each of `orders` new orders in one transaction (with
/// the NOTIFY the service raises), interleaved as real traffic is: round k holds the
/// k-th event of every order, the orders shuffled.
inserted_events insert_events(const std::string& url, std::size_t orders, std::size_t per_order,
                              unsigned seed = 1) {
  std::vector<std::string> ids(orders);
  for (auto& id : ids)
    id = new_uuid();
  std::mt19937 rng{seed};
  inserted_events out;
  std::string values;
  pqxx::connection c{url};
  pqxx::work tx{c};
  for (std::size_t k = 0; k < per_order; ++k) {
    std::shuffle(ids.begin(), ids.end(), rng);
    for (const auto& order : ids) {
      outbox_event e{new_uuid(), order, {}};
      e.payload = envelope(e.event_id, order, k);
      values += (values.empty() ? "(" : ",(") + tx.quote(e.event_id) + "::uuid," + tx.quote(order)
                + "::uuid,'TEST_EVENT'," + tx.quote(e.payload) + ")";
      out.by_order[order].push_back(e.event_id);
      out.by_id.emplace(e.event_id, std::move(e));
    }
  }
  tx.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload) VALUES "
          + values);
  tx.exec(std::string{"SELECT pg_notify('"} + persistence::outbox_channel + "', '')");
  tx.commit();
  return out;
}

/// Appends one event to `order` (a payload of `padding` extra bytes).
outbox_event insert_one(const std::string& url, inserted_events& into, const std::string& order,
                        std::size_t padding = 0) {
  outbox_event e{new_uuid(), order, {}};
  e.payload = envelope(e.event_id, order, into.by_order[order].size(), padding);
  pqxx::connection c{url};
  pqxx::work tx{c};
  tx.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload) VALUES ("
          + tx.quote(e.event_id) + "::uuid," + tx.quote(order) + "::uuid,'TEST_EVENT',"
          + tx.quote(e.payload) + ")");
  tx.commit();
  into.by_order[order].push_back(e.event_id);
  into.by_id.emplace(e.event_id, e);
  return e;
}

// -- Kafka ------------------------------------------------------------------------------

struct kafka_record {
  std::string key;
  std::string value;
  std::string event_type; // the header
  std::int32_t partition = -1;
};

std::string event_id_of(const std::string& value) {
  static const std::string marker = R"("event_id":")";
  auto at = value.find(marker);
  return at == std::string::npos ? std::string{} : value.substr(at + marker.size(), 36);
}

/// Reads order.v1.events from the end offsets it had when the reader was made.
class topic_reader {
public:
  explicit topic_reader(const std::string& topic = topics::order_events) : topic_(topic) {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    conf->set("bootstrap.servers", test::kafka_brokers(), err);
    conf->set("group.id", "outbox-test-" + new_uuid(), err);
    conf->set("enable.auto.commit", "false", err);
    conf->set("log_level", "2", err); // the outage test takes the broker away
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    BOOST_REQUIRE_MESSAGE(consumer_, "cannot create a Kafka consumer: " << err);
    std::unique_ptr<RdKafka::Topic> t{
      RdKafka::Topic::create(consumer_.get(), topic_, nullptr, err)};
    RdKafka::Metadata* md = nullptr;
    auto rc = consumer_->metadata(false, t.get(), &md, 10000);
    std::unique_ptr<RdKafka::Metadata> owned{md};
    BOOST_REQUIRE_MESSAGE(rc == RdKafka::ERR_NO_ERROR && md->topics()->size() == 1,
                          "no metadata for " << topic_ << ": " << RdKafka::err2str(rc));
    // Right after a previous case's broker outage the partition may have no leader in
    // librdkafka's view yet, and the query fails at once ("Local: Unknown partition"):
    // wait for the offsets under a deadline rather than fail on the first answer.
    auto deadline = clock_type::now() + 30s;
    for (const auto* p : *md->topics()->at(0)->partitions()) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      rc = consumer_->query_watermark_offsets(topic_, p->id(), &low, &high, 10000);
      while (rc != RdKafka::ERR_NO_ERROR && clock_type::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        rc = consumer_->query_watermark_offsets(topic_, p->id(), &low, &high, 10000);
      }
      BOOST_REQUIRE_MESSAGE(rc == RdKafka::ERR_NO_ERROR,
                            "no offsets for partition " << p->id() << ": " << RdKafka::err2str(rc));
      start_.push_back(RdKafka::TopicPartition::create(topic_, p->id(), high));
    }
    BOOST_REQUIRE(consumer_->assign(start_) == RdKafka::ERR_NO_ERROR);
  }

  ~topic_reader() {
    consumer_->unassign();
    consumer_->close();
    RdKafka::TopicPartition::destroy(start_);
  }

  /// Consumes (keeping the messages whose key is in `keys`) until `done` holds for
  /// what was kept; fails the test after `timeout`.
  const std::vector<kafka_record>& read_until(const std::set<std::string>& keys,
                                              const std::function<bool()>& done,
                                              std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    while (!done()) {
      BOOST_REQUIRE_MESSAGE(clock_type::now() < deadline,
                            "timed out reading Kafka; kept " << records_.size() << " messages");
      std::unique_ptr<RdKafka::Message> m{consumer_->consume(100)};
      if (m->err() != RdKafka::ERR_NO_ERROR)
        continue;
      std::string key = m->key() ? *m->key() : std::string{};
      if (!keys.count(key))
        continue;
      kafka_record r;
      r.key = key;
      r.value.assign(static_cast<const char*>(m->payload()), m->len());
      r.partition = m->partition();
      if (auto* headers = m->headers()) {
        for (const auto& h : headers->get("event_type"))
          r.event_type.assign(static_cast<const char*>(h.value()), h.value_size());
      }
      records_.push_back(std::move(r));
    }
    return records_;
  }

  /// Reads until every event id of `events` was seen at least once.
  const std::vector<kafka_record>& read_all(const inserted_events& events,
                                            std::chrono::milliseconds timeout = 60s) {
    std::set<std::string> keys;
    for (const auto& [order, ids] : events.by_order)
      keys.insert(order);
    std::set<std::string> seen;
    std::size_t scanned = 0;
    return read_until(
      keys,
      [&] {
        for (; scanned < records_.size(); ++scanned) {
          auto id = event_id_of(records_[scanned].value);
          if (events.by_id.count(id))
            seen.insert(id);
        }
        return seen.size() == events.size();
      },
      timeout);
  }

  const std::vector<kafka_record>& records() const { return records_; }

  std::int32_t partitions() const { return static_cast<std::int32_t>(start_.size()); }

private:
  std::string topic_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<RdKafka::TopicPartition*> start_;
  std::vector<kafka_record> records_;
};

struct delivery_check {
  std::size_t duplicates = 0;
};

/// Every event of `expected` arrived with the right key, value and header, each order's
/// messages in one partition, and the first copies of each order's events in commit
/// order. Returns the number of duplicates (allowed: delivery is at least once).
delivery_check check_delivery(const inserted_events& expected,
                              const std::vector<kafka_record>& records,
                              const std::set<std::string>& never = {}) {
  std::map<std::string, std::vector<std::string>> first_copies;
  std::map<std::string, std::int32_t> partition_of;
  std::set<std::string> seen;
  delivery_check result;
  for (const auto& r : records) {
    auto id = event_id_of(r.value);
    auto e = expected.by_id.find(id);
    BOOST_REQUIRE_MESSAGE(e != expected.by_id.end(), "unexpected message " << r.value);
    BOOST_REQUIRE_EQUAL(r.key, e->second.order_id);
    BOOST_REQUIRE_EQUAL(r.value, e->second.payload);
    BOOST_REQUIRE_EQUAL(r.event_type, "TEST_EVENT");
    BOOST_REQUIRE_MESSAGE(!never.count(id), "event " << id << " should not have been published");
    auto [p, fresh] = partition_of.emplace(r.key, r.partition);
    BOOST_REQUIRE_MESSAGE(fresh || p->second == r.partition,
                          "order " << r.key << " spread over two partitions");
    if (seen.insert(id).second)
      first_copies[r.key].push_back(id);
    else
      ++result.duplicates;
  }
  for (const auto& [order, ids] : expected.by_order) {
    std::vector<std::string> want;
    for (const auto& id : ids)
      if (!never.count(id))
        want.push_back(id);
    BOOST_REQUIRE_MESSAGE(first_copies[order] == want,
                          "order " << order << ": events missing or out of commit order");
  }
  return result;
}

// -- relay pools ----------------------------------------------------------------------

/// Most tests here count SENT rows in the database to see a drain's progress, so their
/// relays keep delivered rows (OUTBOX_RETENTION_S > 0); the ones that end in
/// `_deleting_delivered_rows` run the default, which deletes them at delivery.
constexpr auto keep_sent = std::chrono::seconds{3600};

relay_settings settings_for(const std::string& url, std::size_t relays = 4) {
  relay_settings s;
  s.database_url = url;
  s.kafka_brokers = test::kafka_brokers();
  s.relays = relays;
  s.retention = keep_sent;
  return s;
}

/// A relay pool in this process, with its own actor system and metrics.
class relay_pool {
public:
  explicit relay_pool(const relay_settings& s) {
    cfg_.set("logger.console", caf::atom("none"));
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    relays_ = spawn_outbox_relays(*sys_, s, metrics_);
  }
  ~relay_pool() { stop(); }

  void stop() {
    if (relays_)
      stop_and_wait(*sys_, relays_);
    relays_ = nullptr;
  }

  /// The value of a metric line `name` (with its labels, if any) as rendered.
  double metric(const std::string& name) const {
    std::istringstream text{metrics_.render()};
    std::string line;
    while (std::getline(text, line))
      if (line.rfind(name + " ", 0) == 0)
        return std::stod(line.substr(name.size() + 1));
    BOOST_FAIL("no metric " << name);
    return 0;
  }

private:
  metrics_registry metrics_; // outlives the actor system
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor relays_;
};

// -- relay processes --------------------------------------------------------------------

std::string tool_path(const std::string& name) {
  if (const char* dir = std::getenv("FLASHSALE_TOOLS_DIR"))
    return std::string{dir} + "/" + name;
  // build/test/integration_tests -> build/tools/<name>
  auto exe = std::filesystem::read_symlink("/proc/self/exe");
  return (exe.parent_path().parent_path() / "tools" / name).string();
}

/// flashsale-outbox-relay in a process of its own.
class relay_process {
public:
  relay_process(const std::string& url, std::map<std::string, std::string> vars) {
    auto path = tool_path("flashsale-outbox-relay");
    BOOST_REQUIRE_MESSAGE(::access(path.c_str(), X_OK) == 0,
                          path << " is missing: build the flashsale-outbox-relay target");
    vars["DATABASE_URL"] = url;
    vars["KAFKA_BROKERS"] = test::kafka_brokers();
    vars.emplace("LOG_LEVEL", "warn");
    vars.emplace("OUTBOX_RETENTION_S", std::to_string(keep_sent.count()));
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string entry{*e};
      if (!vars.count(entry.substr(0, entry.find('='))))
        env.push_back(entry);
    }
    for (const auto& [k, v] : vars)
      env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env)
      envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {path.data(), nullptr};
    BOOST_REQUIRE(::posix_spawn(&pid_, path.c_str(), nullptr, nullptr, argv, envp.data()) == 0);
  }

  ~relay_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  /// Sends `sig` and waits for the exit; returns the wait status.
  int signal_and_wait(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

private:
  pid_t pid_ = -1;
};

// -- the broker -------------------------------------------------------------------------

/// Takes the broker down until destroyed: runs the KAFKA_DOWN / KAFKA_UP commands that
/// ./dev.sh exports (Apache Kafka: the node stops answering, SIGSTOP/SIGCONT; the
/// embedded broker: SIGUSR1/SIGUSR2, its listeners refuse connections).
class broker_outage {
public:
  broker_outage() {
    const char* down = std::getenv("KAFKA_DOWN");
    const char* up = std::getenv("KAFKA_UP");
    BOOST_REQUIRE_MESSAGE(down && *down && up && *up,
                          "KAFKA_DOWN/KAFKA_UP are not set: run through ./dev.sh with-stack");
    up_ = up;
    BOOST_REQUIRE_MESSAGE(std::system(down) == 0, "cannot take the broker down: " << down);
  }
  ~broker_outage() { end(); }

  void end() {
    if (!up_.empty() && std::system(up_.c_str()) != 0)
      BOOST_ERROR("cannot bring the broker back: " << up_);
    up_.clear();
  }

private:
  std::string up_;
};

/// `events` without the event `id` (one that must not be published).
inserted_events without(const inserted_events& events, const std::string& id) {
  auto out = events;
  out.by_id.erase(id);
  for (auto& [order, ids] : out.by_order)
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  return out;
}

// -- partitions and topic limits ---------------------------------------------------------

/// The partition Kafka's Java client (and our producer, murmur2_random) gives `key`:
/// murmur2 of its bytes, made positive, modulo `partitions`.
std::int32_t partition_for(const std::string& key, std::int32_t partitions) {
  const std::uint32_t m = 0x5bd1e995;
  const auto len = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = 0x9747b28c ^ len;
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(key[i]));
  };
  std::size_t i = 0;
  for (; i + 4 <= key.size(); i += 4) {
    std::uint32_t k = byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (key.size() % 4) {
    case 3:
      h ^= byte(i + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte(i + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte(i);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>((h & 0x7fffffffu) % static_cast<std::uint32_t>(partitions));
}

/// `n` new order ids whose events all go to `partition`.
std::vector<std::string> orders_on(std::int32_t partition, std::int32_t partitions,
                                   std::size_t n) {
  std::vector<std::string> ids;
  while (ids.size() < n) {
    auto id = new_uuid();
    if (partition_for(id, partitions) == partition)
      ids.push_back(id);
  }
  return ids;
}

/// Runs one of Kafka's own command-line tools (tools/apache_kafka.sh tool …, which
/// ./dev.sh with-stack exports as KAFKA_CTL); returns its output, fails the test when
/// it fails.
std::string kafka_tool(const std::string& args) {
  const char* ctl = std::getenv("KAFKA_CTL");
  BOOST_REQUIRE_MESSAGE(ctl && *ctl, "KAFKA_CTL is not set: run through ./dev.sh with-stack "
                                     "with Apache Kafka (not KAFKA_MODE=embedded)");
  auto cmd = std::string{ctl} + " tool " + args + " --bootstrap-server " + test::kafka_brokers()
             + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe{::popen(cmd.c_str(), "r"), ::pclose};
  BOOST_REQUIRE(pipe);
  std::string out;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, pipe.get()))
    out.append(buf, n);
  BOOST_REQUIRE_MESSAGE(::pclose(pipe.release()) == 0, cmd << " failed: " << out);
  return out;
}

/// Lowers `topic`'s max.message.bytes with kafka-configs until destroyed, then puts
/// back the limit every topic of the stack has (kafka::max_message_bytes).
class topic_limit {
public:
  topic_limit(std::string topic, int bytes) : topic_(std::move(topic)) {
    set(bytes);
    auto wanted = "max.message.bytes=" + std::to_string(bytes);
    wait_until([&] { return kafka_tool(describe()).find(wanted) != std::string::npos; }, 30s,
               "the topic's new max.message.bytes");
  }
  ~topic_limit() {
    try {
      set(kafka::max_message_bytes);
    } catch (...) {
      BOOST_ERROR("cannot restore max.message.bytes of " << topic_);
    }
  }

private:
  std::string describe() const {
    return "kafka-configs --describe --entity-type topics --entity-name " + topic_;
  }
  void set(int bytes) {
    kafka_tool("kafka-configs --alter --entity-type topics --entity-name " + topic_
               + " --add-config max.message.bytes=" + std::to_string(bytes));
  }
  std::string topic_;
};

/// An envelope like ORDER_CREATED's with `items` order lines (about 55 bytes each).
std::string envelope_with_items(const std::string& event_id, const std::string& order_id,
                                std::size_t items) {
  std::string lines;
  for (std::size_t i = 0; i < items; ++i)
    lines += (lines.empty() ? "" : ",") + std::string{R"({"sku_id":"SKU-)"}
             + std::to_string(100000 + i) + R"(","quantity":1,"price":12.34})";
  return R"({"event_id":")" + event_id + R"(","event_type":"TEST_EVENT",)"
         + R"("occurred_at":"2026-01-01T00:00:00.000Z","schema_version":1,)"
         + R"("payload":{"order_id":")" + order_id + R"(","n":0,"items":[)" + lines + "]}}";
}

/// Commits, in one transaction and this order: `small[k]`'s first event for every k,
/// `big`'s first event with `items` lines, then a second event of every order (big
/// included), so that the big one travels among the small ones in one claim.
inserted_events insert_big_among_small(const std::string& url,
                                       const std::vector<std::string>& small,
                                       const std::string& big, std::size_t items,
                                       std::string& big_event) {
  inserted_events out;
  std::string values;
  pqxx::connection c{url};
  pqxx::work tx{c};
  auto add = [&](const std::string& order, std::string payload, const std::string& id) {
    values += (values.empty() ? "(" : ",(") + tx.quote(id) + "::uuid," + tx.quote(order)
              + "::uuid,'TEST_EVENT'," + tx.quote(payload) + ")";
    out.by_order[order].push_back(id);
    out.by_id.emplace(id, outbox_event{id, order, std::move(payload)});
  };
  for (std::size_t round = 0; round < 2; ++round) {
    for (std::size_t k = 0; k < small.size(); ++k) {
      auto id = new_uuid();
      add(small[k], envelope(id, small[k], round), id);
      if (k == small.size() / 2) {
        auto big_id = new_uuid();
        if (round == 0)
          big_event = big_id;
        add(big, round == 0 ? envelope_with_items(big_id, big, items) : envelope(big_id, big, 1),
            big_id);
      }
    }
  }
  tx.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload) VALUES "
          + values);
  tx.exec(std::string{"SELECT pg_notify('"} + persistence::outbox_channel + "', '')");
  tx.commit();
  return out;
}

/// Runs a relay process (2 relays, OUTBOX_RETENTION_S=`retention`) on the outbox of `url`
/// and SIGKILLs it once `drained_enough` holds while it has a batch leased. Small
/// batches make for a slow drain, so that the kill lands in its middle.
void kill_relay_process_mid_batch(const std::string& url, std::chrono::seconds retention,
                                  const std::function<bool()>& drained_enough) {
  outbox_probe db{url};
  relay_process victim{url, {{"OUTBOX_RELAYS", "2"}, {"OUTBOX_BATCH", "16"},
                             {"OUTBOX_RETENTION_S", std::to_string(retention.count())}}};
  wait_until([&] { return drained_enough() && db.leased() > 0; }, 30s,
             "the relay process to be in the middle of a batch");
  int status = victim.signal_and_wait(SIGKILL);
  BOOST_REQUIRE(WIFSIGNALED(status));
}

} // namespace

BOOST_AUTO_TEST_SUITE(outbox_relay)

BOOST_AUTO_TEST_CASE(four_relays_drain_10000_events_of_1000_orders_in_order) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 1000, 10);
  auto start = clock_type::now();
  relay_pool pool{settings_for(url, 4)};
  wait_until([&] { return db.pending() == 0; }, 60s, "the outbox to drain");
  BOOST_TEST_MESSAGE("4 relays drained 10000 events in " << seconds_since(start) << " s");
  auto check = check_delivery(events, reader.read_all(events));
  BOOST_CHECK_EQUAL(check.duplicates, 0u);
  BOOST_CHECK_EQUAL(db.sent(), 10000);
  BOOST_CHECK_EQUAL(pool.metric("outbox_published_total"), 10000);
  BOOST_CHECK_GT(pool.metric("outbox_batch_size_count"), 0);
  BOOST_CHECK_GT(pool.metric("outbox_relay_lag_seconds_count"), 0);
}

BOOST_AUTO_TEST_CASE(two_relay_processes_share_the_outbox_in_order) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 1000, 10, 2);
  auto start = clock_type::now();
  relay_process a{url, {{"OUTBOX_RELAYS", "2"}}};
  relay_process b{url, {{"OUTBOX_RELAYS", "2"}}};
  wait_until([&] { return db.pending() == 0; }, 60s, "the outbox to drain");
  BOOST_TEST_MESSAGE("2 processes drained 10000 events in " << seconds_since(start) << " s");
  check_delivery(events, reader.read_all(events));
  for (auto* p : {&a, &b}) {
    int status = p->signal_and_wait(SIGTERM);
    BOOST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

BOOST_AUTO_TEST_CASE(notify_wakes_idle_relays_long_before_the_poll) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  auto s = settings_for(url, 2);
  s.poll_interval = 30s;
  relay_pool pool{s};
  // Both relays found the outbox empty and are waiting.
  wait_until([&] { return pool.metric("outbox_claims_empty_total") >= 2; }, 10s,
             "the relays to go idle");
  topic_reader reader;
  auto start = clock_type::now();
  auto events = insert_events(url, 5, 1);
  check_delivery(events, reader.read_all(events, 10s));
  BOOST_CHECK_LT(seconds_since(start), 5.0);
}

/// Merges `more` into `events`.
void add(inserted_events& events, const inserted_events& more) {
  events.by_id.insert(more.by_id.begin(), more.by_id.end());
  for (const auto& [order, ids] : more.by_order)
    events.by_order[order].insert(events.by_order[order].end(), ids.begin(), ids.end());
}

BOOST_AUTO_TEST_CASE(an_event_too_large_for_any_broker_is_dead_at_once_and_others_flow) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 200, 2, 3);
  auto poison_order = new_uuid();
  // Larger than the producer's message.max.bytes (kafka::max_message_bytes, 1 MiB).
  auto poison = insert_one(url, events, poison_order, 1100 * 1000);
  auto after = insert_one(url, events, poison_order);
  auto s = settings_for(url, 2);
  s.stats_interval = 100ms;
  relay_pool pool{s};
  // At once: the first attempt decides, no backoff rounds.
  auto start = clock_type::now();
  wait_until([&] { return db.dead() == 1; }, 3s, "the oversize event to be DEAD");
  BOOST_TEST_MESSAGE("DEAD after " << seconds_since(start) << " s");
  wait_until([&] { return db.pending() == 0; }, 30s, "the outbox to drain");
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  auto row = tx.exec1("SELECT status, retry_count, last_error FROM outbox_events "
                      "WHERE event_id = "
                      + tx.quote(poison.event_id));
  BOOST_CHECK_EQUAL(row[0].as<std::string>(), "DEAD");
  BOOST_CHECK_EQUAL(row[1].as<int>(), 1);
  BOOST_CHECK_MESSAGE(row[2].as<std::string>().find("too large") != std::string::npos,
                      "last_error: " << row[2].as<std::string>());
  BOOST_CHECK_EQUAL(db.sent(), 401);
  // Every other event arrived in order, the one behind the poison row included.
  check_delivery(events, reader.read_all(without(events, poison.event_id)), {poison.event_id});
  BOOST_CHECK_EQUAL(pool.metric("outbox_dead_total"), 1);
  BOOST_CHECK_EQUAL(pool.metric("outbox_failed_attempts_total"), 1);
  wait_until([&] { return pool.metric("outbox_dead_rows") == 1; }, 5s, "the dead rows gauge");
  (void)after;
}

BOOST_AUTO_TEST_CASE(a_broker_outage_kills_no_event_and_holds_no_transaction_open) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 300, 5, 8);
  auto s = settings_for(url, 2);
  s.batch = 16;
  s.message_timeout = 1s; // several failed attempts per relay within the outage
  s.lease_margin = 1s;
  s.backoff_base = 50ms;
  s.backoff_max = 500ms;
  s.stats_interval = 100ms;
  relay_pool pool{s};
  wait_until([&] { return db.sent() >= 300; }, 30s, "a first part to be sent");
  double oldest_xact = 0;
  double oldest_xmin_age = 0;
  {
    broker_outage outage;
    add(events, insert_events(url, 300, 5, 9));
    auto xid_before = db.next_xid();
    auto until = clock_type::now() + 8s;
    while (clock_type::now() < until) {
      auto [xact, xmin_age] = db.oldest_other_transaction();
      oldest_xact = std::max(oldest_xact, xact);
      oldest_xmin_age = std::max(oldest_xmin_age, xmin_age);
      BOOST_REQUIRE_EQUAL(db.dead(), 0);
      std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST_MESSAGE("during the outage: oldest relay transaction "
                       << oldest_xact << " s, oldest xmin age " << oldest_xmin_age
                       << " transactions of " << db.next_xid() - xid_before << " begun");
    // Each relay tried and failed several times, and says so.
    BOOST_CHECK_GE(pool.metric("outbox_failed_attempts_total"), 4);
    wait_until([&] { return pool.metric("outbox_waiting_rows") > 0; }, 5s,
               "the waiting rows gauge");
    BOOST_CHECK_EQUAL(pool.metric("outbox_dead_total"), 0);
  }
  // No transaction of a relay lived through the outage; the xmin horizon moved on.
  BOOST_CHECK_LT(oldest_xact, 3.0);
  auto up = clock_type::now();
  wait_until([&] { return db.pending() == 0; }, 30s, "the backlog to drain");
  BOOST_TEST_MESSAGE("backlog drained " << seconds_since(up) << " s after the broker returned");
  BOOST_CHECK_EQUAL(db.dead(), 0);
  BOOST_CHECK_EQUAL(db.sent(), 3000);
  check_delivery(events, reader.read_all(events));
  wait_until([&] { return pool.metric("outbox_waiting_rows") == 0; }, 5s,
             "the waiting rows gauge to clear");
}

BOOST_AUTO_TEST_CASE(a_broker_outage_mid_drain_loses_nothing) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 500, 10, 4);
  auto s = settings_for(url, 2);
  s.batch = 16; // a slow drain, so that the outage most likely lands in its middle
  s.shutdown_grace = 500ms;
  auto pool = std::make_unique<relay_pool>(s);
  wait_until([&] { return db.sent() >= 500; }, 30s, "a first part to be sent");
  {
    broker_outage outage;
    // More events committed during the outage: the relays claim them for certain and
    // hold them leased, waiting for the broker.
    add(events, insert_events(url, 500, 10, 5));
    wait_until([&] { return db.leased() > 0; }, 10s, "a batch waiting for the broker");
    std::this_thread::sleep_for(500ms); // batches acknowledged just before may commit
    auto sent_in_outage = db.sent();
    std::this_thread::sleep_for(3s); // the outage itself
    BOOST_CHECK_EQUAL(db.sent(), sent_in_outage);
    BOOST_CHECK_GT(db.leased(), 0);
    // Stopping now abandons the batches after the grace period: released, not lost.
    auto stop_start = clock_type::now();
    pool->stop();
    BOOST_CHECK_LT(seconds_since(stop_start), 5.0);
    BOOST_CHECK_EQUAL(db.leased(), 0);
    BOOST_CHECK_EQUAL(db.pending_or_sent(), 10000);
    BOOST_CHECK_GE(pool->metric("outbox_abandoned_batches_total"), 1);
    pool = std::make_unique<relay_pool>(settings_for(url, 4));
    wait_until([&] { return db.leased() > 0; }, 10s, "the new pool to meet the outage");
  }
  auto up = clock_type::now();
  wait_until([&] { return db.pending() == 0; }, 60s, "the backlog to drain");
  BOOST_TEST_MESSAGE("backlog drained " << seconds_since(up) << " s after the broker returned");
  auto check = check_delivery(events, reader.read_all(events));
  BOOST_TEST_MESSAGE("duplicates after the outage: " << check.duplicates);
}

BOOST_AUTO_TEST_CASE(a_relay_process_killed_mid_batch_loses_nothing) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 1000, 10, 5);
  kill_relay_process_mid_batch(url, keep_sent, [&] { return db.sent() >= 1000; });
  BOOST_TEST_MESSAGE("killed with " << db.sent() << " rows sent");
  BOOST_CHECK_EQUAL(db.pending_or_sent(), 10000);
  relay_pool pool{settings_for(url, 4)};
  wait_until([&] { return db.pending() == 0; }, 60s, "the survivors to drain");
  auto check = check_delivery(events, reader.read_all(events));
  BOOST_TEST_MESSAGE("duplicates after SIGKILL (counted by event_id): " << check.duplicates);
}

BOOST_AUTO_TEST_CASE(a_graceful_stop_finishes_the_batch_in_flight) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 500, 10, 6);
  {
    auto s = settings_for(url, 2);
    s.batch = 16; // a slow drain, so that the stop lands in its middle
    relay_pool pool{s};
    wait_until([&] { return db.sent() >= 500 && db.leased() > 0; }, 30s, "a batch in flight");
    pool.stop();
    BOOST_CHECK_EQUAL(pool.metric("outbox_abandoned_batches_total"), 0);
  }
  BOOST_CHECK_EQUAL(db.leased(), 0);
  BOOST_CHECK_GT(db.pending(), 0);
  relay_pool pool{settings_for(url, 4)};
  wait_until([&] { return db.pending() == 0; }, 60s, "the rest to drain");
  // Batches were finished, not abandoned: nothing was sent twice.
  BOOST_CHECK_EQUAL(check_delivery(events, reader.read_all(events)).duplicates, 0u);
}

BOOST_AUTO_TEST_CASE(the_janitor_deletes_old_sent_rows_and_refreshes_gauges) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  insert_events(url, 50, 2, 7);
  auto s = settings_for(url, 1);
  s.retention = 1s;
  s.stats_interval = 100ms;
  relay_pool pool{s};
  wait_until([&] { return pool.metric("outbox_published_total") == 100; }, 20s,
             "the events to be published");
  wait_until([&] { return db.count() == 0; }, 10s, "the janitor to delete the sent rows");
  wait_until([&] { return pool.metric("outbox_pending_rows") == 0; }, 5s, "the pending gauge");
  BOOST_CHECK_EQUAL(pool.metric("outbox_dead_rows"), 0);
  BOOST_CHECK_EQUAL(pool.metric("outbox_oldest_pending_age_seconds"), 0);
}

BOOST_AUTO_TEST_CASE(a_batch_refused_as_too_large_kills_only_the_event_too_large_itself) {
  // Issue 22, item 3: order.v1.events' max.message.bytes lowered below the producer's
  // (a common mistake). The broker refuses whole record batches; only the event that is
  // too large alone may become DEAD, its 200 neighbours on the partition are delivered.
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  const int limit = 4096; // a small event's record is ~350 bytes, the 100-item one ~5.3 KB
  auto partition = partition_for(new_uuid(), reader.partitions());
  auto ids = orders_on(partition, reader.partitions(), 201);
  auto big = ids.back();
  ids.pop_back();
  std::string big_event;
  auto events = insert_big_among_small(url, ids, big, 100, big_event);
  BOOST_REQUIRE_GT(events.by_id.at(big_event).payload.size(), static_cast<std::size_t>(limit));
  topic_limit lowered{topics::order_events, limit};
  auto s = settings_for(url, 2);
  s.stats_interval = 100ms;
  relay_pool pool{s};
  wait_until([&] { return db.pending() == 0; }, 60s, "the outbox to drain");
  BOOST_TEST_MESSAGE("DEAD " << db.dead() << ", SENT " << db.sent());
  // Only the 100-item event is DEAD, with the broker's reason; every other event (its
  // order's next one included) arrived, each order's in commit order.
  BOOST_CHECK_EQUAL(db.dead(), 1);
  BOOST_CHECK_EQUAL(db.count("status = 'DEAD' AND event_id = '" + big_event + "'"), 1);
  BOOST_CHECK_EQUAL(db.count("status = 'DEAD' AND last_error ILIKE '%too large%'"), 1);
  BOOST_CHECK_EQUAL(db.sent(), 401);
  check_delivery(events, reader.read_all(without(events, big_event)), {big_event});
  BOOST_CHECK_EQUAL(pool.metric("outbox_dead_total"), 1);
  BOOST_CHECK_GE(pool.metric("outbox_refused_batches_total"), 1);
  BOOST_CHECK_GE(pool.metric("outbox_retried_alone_total"), 2);
  BOOST_CHECK_GE(pool.metric("outbox_delivered_alone_total"), 1);
}

BOOST_AUTO_TEST_CASE(four_relays_drain_in_order_deleting_delivered_rows) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 1000, 10, 8);
  auto poison_order = new_uuid();
  auto poison = insert_one(url, events, poison_order, 1100 * 1000); // too large: DEAD
  insert_one(url, events, poison_order);
  auto s = settings_for(url, 4);
  s.retention = relay_settings{}.retention;
  BOOST_REQUIRE_EQUAL(s.retention.count(), 0); // the default: delivered rows are deleted
  relay_pool pool{s};
  wait_until([&] { return db.pending() == 0; }, 60s, "the outbox to drain");
  auto check = check_delivery(events, reader.read_all(without(events, poison.event_id)),
                              {poison.event_id});
  BOOST_CHECK_EQUAL(check.duplicates, 0u);
  // Every delivered row is gone; the DEAD one stays to be inspected.
  BOOST_CHECK_EQUAL(db.count(), 1);
  BOOST_CHECK_EQUAL(db.dead(), 1);
  BOOST_CHECK_EQUAL(db.sent(), 0);
  BOOST_CHECK_EQUAL(pool.metric("outbox_published_total"), 10001);
}

BOOST_AUTO_TEST_CASE(a_relay_process_killed_mid_batch_loses_nothing_deleting_delivered_rows) {
  auto url = test::fresh_database();
  outbox_probe db{url};
  topic_reader reader;
  auto events = insert_events(url, 1000, 10, 9);
  kill_relay_process_mid_batch(url, std::chrono::seconds{0}, [&] { return db.count() <= 9000; });
  BOOST_TEST_MESSAGE("killed with " << db.count() << " rows left");
  BOOST_CHECK_EQUAL(db.sent(), 0);
  auto s = settings_for(url, 4);
  s.retention = std::chrono::seconds{0};
  relay_pool pool{s};
  wait_until([&] { return db.count() == 0; }, 60s, "the survivors to drain");
  // Rows deleted or not, every event is on the topic, each order's in commit order.
  auto check = check_delivery(events, reader.read_all(events));
  BOOST_TEST_MESSAGE("duplicates after SIGKILL (counted by event_id): " << check.duplicates);
}

BOOST_AUTO_TEST_SUITE_END()
