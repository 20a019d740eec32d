#include "actors/outbox/outbox_actors.hpp"

#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>

namespace flashsale {

namespace {

using supervisor_idle_atom = caf::atom_constant<caf::atom("fs_sidle")>;

struct supervisor_state {
  std::vector<std::function<caf::actor()>> factories;
  std::vector<caf::actor> children;
  bool stopping = false;
  caf::error reason;
  static inline const char* name = "outbox_supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

std::size_t alive_children(const supervisor_state& st) {
  return static_cast<std::size_t>(
    std::count_if(st.children.begin(), st.children.end(), [](const auto& c) { return c; }));
}

/// Watches the relays and the janitor: restarts one that died unexpectedly, and on an
/// exit message stops them all and terminates after the last one.
caf::behavior outbox_supervisor(supervisor_actor* self,
                                std::vector<std::function<caf::actor()>> factories) {
  auto& st = self->state;
  st.factories = std::move(factories);
  for (auto& make : st.factories) {
    st.children.push_back(make());
    self->monitor(st.children.back());
  }
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    st.reason = msg.reason;
    for (auto& c : st.children)
      if (c)
        self->send_exit(c, msg.reason);
    if (alive_children(st) == 0)
      self->quit(st.reason);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (std::size_t i = 0; i < st.children.size(); ++i) {
      if (!st.children[i] || st.children[i].address() != msg.source)
        continue;
      st.children[i] = nullptr;
      if (!st.stopping) {
        log::error("outbox actor died; restarting",
                   {{"actor", std::to_string(i)}, {"reason", self->system().render(msg.reason)}});
        st.children[i] = st.factories[i]();
        self->monitor(st.children[i]);
      }
    }
    if (st.stopping && alive_children(st) == 0)
      self->quit(st.reason);
  });
  return {
    [](supervisor_idle_atom) {}, // nothing to handle; keeps the behaviour non-empty
  };
}

} // namespace

caf::actor spawn_outbox_supervisor(caf::actor_system& sys,
                                   std::vector<std::function<caf::actor()>> factories) {
  return sys.spawn(outbox_supervisor, std::move(factories));
}

caf::actor spawn_outbox_relays(caf::actor_system& sys, const relay_settings& settings,
                               metrics_registry& metrics,
                               std::shared_ptr<const outbox_gauges>* gauges) {
  auto m = register_outbox_metrics(metrics);
  if (gauges && settings.janitor) // without the janitor nobody refreshes them
    *gauges = m.gauges;
  std::vector<std::function<caf::actor()>> factories;
  for (std::size_t i = 0; i < settings.relays; ++i)
    factories.push_back(
      [&sys, settings, i, m] { return spawn_outbox_relay(sys, settings, i, m); });
  if (settings.janitor)
    factories.push_back([&sys, settings, g = m.gauges] {
      return spawn_outbox_janitor(sys, settings, g);
    });
  return spawn_outbox_supervisor(sys, std::move(factories));
}

} // namespace flashsale
