#include "actors/health_monitor.hpp"

#include "actors/protocol.hpp"
#include "kafka/broker_probe.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <pqxx/pqxx>

namespace flashsale {

namespace {

constexpr std::chrono::milliseconds kafka_probe_timeout{1000};

struct monitor_state {
  std::unique_ptr<persistence::pg_session> db;
  std::unique_ptr<kafka::broker_probe> kafka;
  std::shared_ptr<health_state> health;
  static inline const char* name = "health_monitor";
};

using monitor_self = caf::stateful_actor<monitor_state>;

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

caf::behavior monitor(monitor_self* self, std::string url, std::string brokers,
                      std::shared_ptr<health_state> health, std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.db = std::make_unique<persistence::pg_session>(std::move(url),
                                                    std::chrono::milliseconds{0});
  st.kafka = std::make_unique<kafka::broker_probe>(brokers);
  st.health = std::move(health);
  self->send(self, probe_atom::value);
  return {
    [=](probe_atom) {
      auto& st = self->state;
      st.health->database_ok = database_reachable(*st.db);
      st.health->kafka_ok = st.kafka->reachable(kafka_probe_timeout);
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
