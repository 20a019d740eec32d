#include "actors/cluster/order_router.hpp"

#include "actors/cluster/cluster.hpp"
#include "actors/cluster/shard_ownership.hpp"
#include "actors/log.hpp"
#include "metrics/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <array>

namespace flashsale {

namespace {

using steady = std::chrono::steady_clock;

/// An unanswered forward is logged at most this often: a dead owner causes one per request.
constexpr std::chrono::seconds failure_log_every{1};

struct router_state {
  order_api registry;
  std::shared_ptr<const cluster_view> view;
  std::shared_ptr<const shard_ownership> shards;
  router_settings cfg;
  /// Forwarded commands by kind: a test or an operator tells cancels from saga events.
  enum kind { cancel, event, kinds };
  std::array<counter*, kinds> forwarded{};
  counter* unrouted = nullptr; // no owner known or reachable
  steady::time_point next_failure_log{};
  static inline const char* name = "order_router";
};

using router_actor = order_api::stateful_pointer<router_state>;

void log_unrouted(router_actor self, const std::string& owner, const std::string& order_id,
                  const std::string& why) {
  auto& st = self->state;
  st.unrouted->inc();
  auto now = steady::now();
  if (now < st.next_failure_log)
    return;
  st.next_failure_log = now + failure_log_every;
  log::warn("no owner answered for an order",
            {{"owner", owner.empty() ? "unknown" : owner}, {"order_id", order_id}, {"error", why}});
}

/// Sends (xs...) about `order_id` to the local registry when this node owns it, else to
/// its owner's registry; `failed` is the reply while no owner is known or reachable.
template <class Reply, class... Ts>
caf::typed_response_promise<Reply> route(router_actor self, router_state::kind kind,
                                         const std::string& order_id, Reply failed, Ts... xs) {
  auto& st = self->state;
  auto rp = self->make_response_promise<Reply>();
  if (!st.shards || st.shards->owns(order_id)) {
    rp.delegate(st.registry, xs...);
    return rp;
  }
  auto table = st.view->current();
  auto owner = table->owner_of(order_id, st.shards->count());
  auto remote = owner ? table->registries.find(*owner) : table->registries.end();
  if (remote == table->registries.end()) {
    log_unrouted(self, owner.value_or(""), order_id,
                 owner && *owner == table->self ? "shard not held here now" : "owner unreachable");
    rp.deliver(failed);
    return rp;
  }
  st.forwarded[kind]->inc();
  self->request(remote->second, st.cfg.forward_timeout, xs...)
    .then([rp](Reply& r) mutable { rp.deliver(std::move(r)); },
          [self, rp, failed, owner = *owner, order_id](caf::error& err) mutable {
            log_unrouted(self, owner, order_id, self->system().render(err));
            rp.deliver(failed);
          });
  return rp;
}

order_api::behavior_type order_router(router_actor self, order_api registry,
                           std::shared_ptr<const cluster_view> view,
                           std::shared_ptr<const shard_ownership> shards, router_settings cfg,
                           metrics_registry* metrics) {
  auto& st = self->state;
  st.registry = std::move(registry);
  st.view = std::move(view);
  st.shards = std::move(shards);
  st.cfg = cfg;
  const char* names[] = {"cancel", "event"};
  for (int k = 0; k < router_state::kinds; ++k)
    st.forwarded[k] = &metrics->get_counter(
      "cluster_forwarded_total", "Commands about an order forwarded to its owner on another node",
      {{"command", names[k]}});
  st.unrouted = &metrics->get_counter(
    "cluster_unrouted_total",
    "Commands about another node's order that no owner took (none known, or it did not answer)");
  // The router lives and dies with its registry.
  self->monitor(st.registry);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
    [self](fetch_atom a, const std::string& id) {
      // Any order is read here: the live actor, or PostgreSQL (order_registry.cpp).
      return self->delegate(self->state.registry, a, id);
    },
    [self](cancel_atom a, const std::string& id, const std::string& reason,
           const std::string& user_id,
           const std::string& traceparent) -> caf::result<order_reply> {
      order_reply failed{false, {}, {error_code::unavailable, "the order's owner is not known "
                                                              "or not reachable now, retry"}};
      return route<order_reply>(self, router_state::cancel, id, failed, a, id, reason, user_id,
                                traceparent);
    },
    [self](event_atom a, const incoming_event& ev) -> caf::result<event_reply> {
      return route<event_reply>(self, router_state::event, ev.order_id,
                                event_reply{event_status::failed, {}}, a, ev);
    },
    [self](expire_atom a, const std::string& id) {
      return self->delegate(self->state.registry, a, id);
    },
  };
}

} // namespace

order_api spawn_order_router(caf::actor_system& sys, order_api registry,
                              std::shared_ptr<const cluster_view> view,
                              std::shared_ptr<const shard_ownership> shards,
                              router_settings settings, metrics_registry& metrics) {
  return sys.spawn(order_router, std::move(registry), std::move(view), std::move(shards),
                   settings, &metrics);
}

} // namespace flashsale
