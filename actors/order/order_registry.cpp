#include "actors/order/order_registry.hpp"

#include "actors/order/order_actor.hpp"

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <iterator>
#include <optional>
#include <unordered_map>

namespace flashsale {

namespace {

struct live_order {
  order_actor_api actor;
  std::int64_t epoch = 0; // the fence it was spawned with
};

struct registry_state {
  std::unordered_map<std::string, live_order> live;
  std::unordered_map<caf::actor_addr, std::string> ids;
  order_ports ports;
  order_settings settings;
  static inline const char* name = "order_registry";

  /// However the registry ends (shutdown, an error), its order actors end with it.
  ~registry_state() {
    for (auto& [id, a] : live)
      caf::anon_send_exit(a.actor, caf::exit_reason::user_shutdown);
  }
};

using registry_self = order_registry_api::stateful_pointer<registry_state>;

/// The order's fence when this node owns it (any order, unfenced, without ownership).
std::optional<shard_fence> fence_for(registry_self self, const std::string& id) {
  const auto& shards = self->state.ports.shards;
  if (!shards)
    return shard_fence{};
  return shards->fence_of(id);
}

void drop(registry_self self, std::unordered_map<std::string, live_order>::iterator i) {
  auto& st = self->state;
  auto who = i->second.actor;
  st.ids.erase(who.address());
  self->demonitor(who.address());
  self->send(who, stop_atom::value);
  st.live.erase(i);
}

/// The order's actor, spawned with `fence`; one of an earlier epoch (the shard was
/// lost and taken again meanwhile) stops first, its copy of the order may be stale.
const order_actor_api& actor_for(registry_self self, const std::string& id, shard_fence fence) {
  auto& st = self->state;
  auto i = st.live.find(id);
  if (i != st.live.end()) {
    if (i->second.epoch == fence.epoch)
      return i->second.actor;
    drop(self, i);
  }
  auto a = spawn_order_actor(self, id, caf::actor_cast<order_registry_api>(self), st.ports,
                             st.settings, fence);
  self->monitor(a);
  st.ids.emplace(a.address(), id);
  return st.live.emplace(id, live_order{std::move(a), fence.epoch}).first->second.actor;
}

void forget(registry_self self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.ids.find(who);
  if (i == st.ids.end())
    return;
  auto j = st.live.find(i->second);
  if (j != st.live.end() && j->second.actor.address() == who)
    st.live.erase(j);
  st.ids.erase(i);
}

/// (xs...) to the order's actor, its answer to the sender.
template <class Reply, class... Ts>
caf::result<Reply> to_actor(registry_self self, const std::string& id, shard_fence fence,
                            Ts... xs) {
  auto rp = self->make_response_promise<Reply>();
  rp.delegate(actor_for(self, id, fence), xs...);
  return rp;
}

api_error not_owned() {
  return {error_code::unavailable, "this node does not own the order, retry"};
}

/// A read of an order another node owns: straight from PostgreSQL, no actor.
caf::result<order_reply> read_elsewhere(registry_self self, const std::string& id) {
  auto rp = self->make_response_promise<order_reply>();
  self->request(self->state.ports.readers, self->state.settings.db_timeout, load_atom::value, id)
    .then(
      [rp](load_reply& r) mutable {
        order_reply out;
        if (r.found) {
          out.ok = true;
          out.value = std::move(r.value);
        } else {
          out.error = r.failed ? r.error
                               : api_error{error_code::order_not_found, "order not found"};
        }
        rp.deliver(std::move(out));
      },
      [rp](caf::error&) mutable {
        rp.deliver(order_reply{false, {}, {error_code::unavailable, "database did not answer"}});
      });
  return rp;
}

order_registry_api::behavior_type registry(registry_self self, order_ports ports,
                                           order_settings settings) {
  self->state.ports = std::move(ports);
  self->state.settings = settings;
  // An order actor that died for any reason is forgotten; the next command respawns it.
  self->set_down_handler([=](caf::down_msg& dm) { forget(self, dm.source); });
  return {
    [=](fetch_atom a, const std::string& id) -> caf::result<order_reply> {
      auto fence = fence_for(self, id);
      if (!fence)
        return read_elsewhere(self, id);
      return to_actor<order_reply>(self, id, *fence, a, id);
    },
    [=](cancel_atom a, const std::string& id, const std::string& reason,
        const std::string& user_id, const std::string& traceparent) -> caf::result<order_reply> {
      auto fence = fence_for(self, id);
      if (!fence)
        return order_reply{false, {}, not_owned()};
      return to_actor<order_reply>(self, id, *fence, a, id, reason, user_id, traceparent);
    },
    [=](event_atom a, const incoming_event& ev) -> caf::result<event_reply> {
      auto fence = fence_for(self, ev.order_id);
      if (!fence)
        return event_reply{event_status::failed, {}};
      return to_actor<event_reply>(self, ev.order_id, *fence, a, ev);
    },
    [=](expire_atom a, const std::string& id) -> caf::result<event_reply> {
      auto fence = fence_for(self, id);
      if (!fence)
        return event_reply{event_status::failed, {}};
      return to_actor<event_reply>(self, id, *fence, a, id);
    },
    // Messages forwarded before this point are already in the actor's mailbox, ahead
    // of the stop: none is lost, later ones go to a fresh actor.
    [=](passivate_atom, const std::string& id, const order_actor_api& who) {
      auto& st = self->state;
      auto i = st.live.find(id);
      if (i != st.live.end() && i->second.actor == who)
        drop(self, i);
    },
    // Shards were revoked (actors/saga): the actors of orders this node no longer owns
    // stop like passivated ones, so that nothing here answers from a copy the new owner
    // may change, and a later command (the shard coming back) loads the row again.
    [=](release_atom, const ownership_test& owns) {
      auto& st = self->state;
      for (auto i = st.live.begin(); i != st.live.end();) {
        auto next = std::next(i);
        if (!owns(i->first))
          drop(self, i);
        i = next;
      }
    },
  };
}

} // namespace

order_registry_api spawn_order_registry(caf::actor_system& sys, order_ports ports,
                                        order_settings settings) {
  return sys.spawn(registry, std::move(ports), settings);
}

} // namespace flashsale
