#include "actors/health_monitor.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "kafka/broker_probe.hpp"
#include "persistence/db_probe.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace flashsale {

namespace {

constexpr std::chrono::milliseconds kafka_probe_timeout{1000};

/// A probe every 250 ms, each cut after 1 s (persistence/db_probe.hpp): /readyz says 503
/// at most ~1.25 s after the database went silent.
constexpr std::chrono::milliseconds db_probe_interval{250};

struct db_probe_state {
  std::unique_ptr<persistence::db_probe> db;
  std::shared_ptr<health_state> health;
  bool logged_down = false;
  static inline const char* name = "health_db_probe";
};

using db_probe_self = caf::stateful_actor<db_probe_state>;

caf::behavior db_probe_actor(db_probe_self* self, std::string url,
                       std::shared_ptr<health_state> health) {
  auto& st = self->state;
  st.db = std::make_unique<persistence::db_probe>(std::move(url));
  st.health = std::move(health);
  self->send(self, probe_atom::value);
  return {
    [=](probe_atom) {
      auto& st = self->state;
      bool ok = st.db->reachable();
      st.health->database_ok = ok;
      if (ok == st.logged_down) { // a change: say it once
        st.logged_down = !ok;
        if (ok)
          log::info("database reachable", {});
        else
          log::warn("database unreachable: /readyz answers 503", {});
      }
      self->delayed_send(self, db_probe_interval, probe_atom::value);
    },
  };
}

struct monitor_state {
  std::unique_ptr<kafka::broker_probe> kafka;
  std::shared_ptr<health_state> health;
  static inline const char* name = "health_monitor";
};

using monitor_self = caf::stateful_actor<monitor_state>;

/// Probes Kafka; the database has its own (linked) probe, so that a slow answer of one
/// never delays what /readyz says about the other.
caf::behavior monitor(monitor_self* self, std::string url, std::string brokers,
                      std::shared_ptr<health_state> health, std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.kafka = std::make_unique<kafka::broker_probe>(brokers);
  if (!st.kafka->setup_error().empty())
    log::error("kafka probe cannot be made: /readyz reports kafka down",
               {{"error", st.kafka->setup_error()}});
  st.health = health;
  self->spawn<caf::detached + caf::linked>(db_probe_actor, std::move(url), std::move(health));
  self->send(self, probe_atom::value);
  return {
    [=](probe_atom) {
      auto& st = self->state;
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
