#include "actors/health_monitor.hpp"

#include "actors/protocol.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <librdkafka/rdkafkacpp.h>
#include <pqxx/pqxx>

namespace flashsale {

namespace {

constexpr int kafka_probe_timeout_ms = 1000;

struct monitor_state {
  std::unique_ptr<persistence::pg_session> db;
  std::unique_ptr<RdKafka::Producer> kafka;
  std::shared_ptr<health_state> health;
  static inline const char* name = "health_monitor";
};

using monitor_self = caf::stateful_actor<monitor_state>;

std::unique_ptr<RdKafka::Producer> make_probe_client(const std::string& brokers) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  conf->set("bootstrap.servers", brokers, err);
  conf->set("client.id", "flashsale-order-health", err);
  conf->set("log_level", "0", err); // reachability is the probe's answer, not log noise
  return std::unique_ptr<RdKafka::Producer>{RdKafka::Producer::create(conf.get(), err)};
}

bool database_reachable(persistence::pg_session& db) {
  try {
    db.with([](pqxx::connection_base& c) {
      pqxx::nontransaction tx{c};
      tx.exec("SELECT 1");
    });
    return true;
  } catch (...) {
    return false;
  }
}

bool kafka_reachable(RdKafka::Producer* client) {
  if (!client)
    return false;
  RdKafka::Metadata* md = nullptr;
  auto err = client->metadata(true, nullptr, &md, kafka_probe_timeout_ms);
  std::unique_ptr<RdKafka::Metadata> owned{md};
  return err == RdKafka::ERR_NO_ERROR && md && !md->brokers()->empty();
}

caf::behavior monitor(monitor_self* self, std::string url, std::string brokers,
                      std::shared_ptr<health_state> health, std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.db = std::make_unique<persistence::pg_session>(std::move(url),
                                                    std::chrono::milliseconds{0});
  st.kafka = make_probe_client(brokers);
  st.health = std::move(health);
  self->send(self, probe_atom::value);
  return {
    [=](probe_atom) {
      auto& st = self->state;
      st.health->database_ok = database_reachable(*st.db);
      st.health->kafka_ok = kafka_reachable(st.kafka.get());
      self->delayed_send(self, interval, probe_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_health_monitor(caf::actor_system& sys, std::string database_url,
                                std::string kafka_brokers, std::shared_ptr<health_state> state,
                                std::chrono::milliseconds interval) {
  return sys.spawn<caf::detached>(monitor, std::move(database_url), std::move(kafka_brokers),
                                  std::move(state), interval);
}

} // namespace flashsale
