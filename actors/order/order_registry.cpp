#include "actors/order/order_registry.hpp"

#include "actors/order/order_actor.hpp"
#include "actors/protocol.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <unordered_map>

namespace flashsale {

namespace {

struct registry_state {
  std::unordered_map<std::string, caf::actor> live;
  std::unordered_map<caf::actor_addr, std::string> ids;
  caf::actor writers;
  caf::actor readers;
  order_settings settings;
  static inline const char* name = "order_registry";

  /// However the registry ends (shutdown, an error), its order actors end with it.
  ~registry_state() {
    for (auto& [id, a] : live)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
};

using registry_self = caf::stateful_actor<registry_state>;

const caf::actor& actor_for(registry_self* self, const std::string& id) {
  auto& st = self->state;
  auto i = st.live.find(id);
  if (i != st.live.end())
    return i->second;
  auto a = spawn_order_actor(self, id, caf::actor_cast<caf::actor>(self), st.writers,
                             st.readers, st.settings);
  self->monitor(a);
  st.ids.emplace(a.address(), id);
  return st.live.emplace(id, std::move(a)).first->second;
}

void forget(registry_self* self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.ids.find(who);
  if (i == st.ids.end())
    return;
  auto j = st.live.find(i->second);
  if (j != st.live.end() && j->second.address() == who)
    st.live.erase(j);
  st.ids.erase(i);
}

caf::behavior registry(registry_self* self, caf::actor writers, caf::actor readers,
                       order_settings settings) {
  self->state.writers = std::move(writers);
  self->state.readers = std::move(readers);
  self->state.settings = settings;
  // An order actor that died for any reason is forgotten; the next command respawns it.
  self->set_down_handler([=](caf::down_msg& dm) { forget(self, dm.source); });
  return {
    [=](fetch_atom a, const std::string& id) {
      return self->delegate(actor_for(self, id), a, id);
    },
    [=](cancel_atom a, const std::string& id, const std::string& reason,
        const std::string& user_id, const std::string& traceparent) {
      return self->delegate(actor_for(self, id), a, id, reason, user_id, traceparent);
    },
    [=](event_atom a, const incoming_event& ev) {
      return self->delegate(actor_for(self, ev.order_id), a, ev);
    },
    [=](expire_atom a, const std::string& id) {
      return self->delegate(actor_for(self, id), a, id);
    },
    // Messages forwarded before this point are already in the actor's mailbox, ahead
    // of the stop: none is lost, later ones go to a fresh actor.
    [=](passivate_atom, const std::string& id, const caf::actor& who) {
      auto& st = self->state;
      auto i = st.live.find(id);
      if (i != st.live.end() && i->second == who) {
        st.live.erase(i);
        st.ids.erase(who.address());
        self->demonitor(who);
        self->send(who, stop_atom::value);
      }
    },
    // Ownership moved (DESIGN.md "Many nodes", actors/cluster.hpp): the actors of orders
    // another node owns now stop like passivated ones, so that a later command here (a
    // fallback, or ownership coming back) loads the row again instead of answering
    // from a copy the new owner may have changed.
    [=](release_atom, const ownership_test& owns) {
      auto& st = self->state;
      for (auto i = st.live.begin(); i != st.live.end();) {
        if (owns(i->first)) {
          ++i;
          continue;
        }
        auto who = i->second;
        st.ids.erase(who.address());
        self->demonitor(who);
        self->send(who, stop_atom::value);
        i = st.live.erase(i);
      }
    },
  };
}

} // namespace

caf::actor spawn_order_registry(caf::actor_system& sys, caf::actor writers, caf::actor readers,
                                order_settings settings) {
  return sys.spawn(registry, std::move(writers), std::move(readers), settings);
}

} // namespace flashsale
