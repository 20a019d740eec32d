#include "actors/cluster/order_router.hpp"

#include "actors/cluster/cluster.hpp"
#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "metrics/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <array>

namespace flashsale {

namespace {

using steady = std::chrono::steady_clock;

/// A fallback is logged at most this often: a dead owner causes one per request.
constexpr std::chrono::seconds fallback_log_every{1};

struct router_state {
  caf::actor registry;
  std::shared_ptr<const cluster_view> view;
  router_settings cfg;
  /// Forwarded commands by kind: a test or an operator tells reads from saga events.
  enum kind { fetch, cancel, event, expire, kinds };
  std::array<counter*, kinds> forwarded{};
  counter* fallbacks = nullptr;
  steady::time_point next_fallback_log{};
  static inline const char* name = "order_router";
};

using router_actor = caf::stateful_actor<router_state>;

void log_fallback(router_actor* self, const std::string& owner, const std::string& order_id,
                  const caf::error& err) {
  auto& st = self->state;
  st.fallbacks->inc();
  auto now = steady::now();
  if (now < st.next_fallback_log)
    return;
  st.next_fallback_log = now + fallback_log_every;
  log::warn("owner did not answer, handled here",
            {{"owner", owner}, {"order_id", order_id}, {"error", self->system().render(err)}});
}

/// Sends (xs...) about `order_id` to its owner's registry and delivers the reply;
/// falls back to the local registry when the owner is this node, unknown, or silent.
template <class Reply, class... Ts>
caf::typed_response_promise<Reply> route(router_actor* self, router_state::kind kind,
                                         std::chrono::milliseconds timeout,
                                         const std::string& order_id, Ts... xs) {
  auto& st = self->state;
  auto rp = self->make_response_promise<Reply>();
  auto table = st.view->current();
  auto owner = table->owner_of(order_id);
  auto remote = table->registries.find(owner);
  if (owner == table->self || remote == table->registries.end()) {
    rp.delegate(st.registry, xs...);
    return rp;
  }
  st.forwarded[kind]->inc();
  self->request(remote->second, timeout, xs...)
    .then([rp](Reply& r) mutable { rp.deliver(std::move(r)); },
          [self, rp, owner, order_id, xs...](caf::error& err) mutable {
            log_fallback(self, owner, order_id, err);
            rp.delegate(self->state.registry, xs...);
          });
  return rp;
}

caf::behavior order_router(router_actor* self, caf::actor registry,
                           std::shared_ptr<const cluster_view> view, router_settings cfg,
                           metrics_registry* metrics) {
  auto& st = self->state;
  st.registry = std::move(registry);
  st.view = std::move(view);
  st.cfg = cfg;
  const char* names[] = {"fetch", "cancel", "event", "expire"};
  for (int k = 0; k < router_state::kinds; ++k)
    st.forwarded[k] = &metrics->get_counter(
      "cluster_forwarded_total", "Commands about an order forwarded to its owner on another node",
      {{"command", names[k]}});
  st.fallbacks = &metrics->get_counter(
    "cluster_forward_fallbacks_total",
    "Forwarded commands the owner did not answer in time, handled by this node instead");
  // The router lives and dies with its registry.
  self->monitor(st.registry);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
    [self](fetch_atom a, const std::string& id) -> caf::result<order_reply> {
      return route<order_reply>(self, router_state::fetch, self->state.cfg.read_timeout, id, a, id);
    },
    [self](cancel_atom a, const std::string& id, const std::string& reason,
           const std::string& user_id,
           const std::string& traceparent) -> caf::result<order_reply> {
      return route<order_reply>(self, router_state::cancel, self->state.cfg.forward_timeout, id,
                                a, id, reason, user_id, traceparent);
    },
    [self](event_atom a, const incoming_event& ev) -> caf::result<event_reply> {
      return route<event_reply>(self, router_state::event, self->state.cfg.forward_timeout,
                                ev.order_id, a, ev);
    },
    [self](expire_atom a, const std::string& id) -> caf::result<event_reply> {
      return route<event_reply>(self, router_state::expire, self->state.cfg.forward_timeout, id,
                                a, id);
    },
  };
}

} // namespace

caf::actor spawn_order_router(caf::actor_system& sys, caf::actor registry,
                              std::shared_ptr<const cluster_view> view, router_settings settings,
                              metrics_registry& metrics) {
  return sys.spawn(order_router, std::move(registry), std::move(view), settings, &metrics);
}

} // namespace flashsale
