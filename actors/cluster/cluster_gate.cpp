#include "actors/cluster/cluster_gate.hpp"

#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>

namespace flashsale {

namespace {

/// A peer sending garbage sends a lot of it: one warning a second at most.
constexpr std::chrono::seconds reject_log_every{1};

struct gate_state {
  order_api registry;
  caf::actor member; // where hellos go; set by the membership actor of this node
  std::chrono::steady_clock::time_point next_log{};
  static inline const char* name = "cluster_gate";
};

using gate_actor = caf::stateful_actor<gate_state>;

void log_rejected(gate_actor* self, const char* command, const std::string& what,
                  const std::string& order_id) {
  auto now = std::chrono::steady_clock::now();
  if (now < self->state.next_log)
    return;
  self->state.next_log = now + reject_log_every;
  auto sender = self->current_sender();
  log::warn("rejected a command from a cluster peer",
            {{"command", command},
             {"problem", what},
             {"order_id", order_id.size() <= 64 ? order_id : order_id.substr(0, 64)},
             {"peer_node", sender ? to_string(sender->node()) : std::string{"unknown"}}});
}

/// Hands (xs...) to the registry, or answers `rejected` when `what` says why not.
template <class Reply, class... Ts>
caf::typed_response_promise<Reply> pass(gate_actor* self, const char* command,
                                        const std::string& what, const std::string& order_id,
                                        Reply rejected, Ts... xs) {
  auto rp = self->make_response_promise<Reply>();
  if (what.empty()) {
    rp.delegate(self->state.registry, std::move(xs)...);
    return rp;
  }
  log_rejected(self, command, what, order_id);
  rp.deliver(std::move(rejected));
  return rp;
}

order_reply invalid(const std::string& what) {
  return reply_error(error_code::invalid_request, what);
}

/// An event a peer got wrong has no effect, and must not be delivered again.
const event_reply ignored{event_status::ignored, order_status::created};

caf::behavior cluster_gate(gate_actor* self, order_api registry) {
  self->state.registry = std::move(registry);
  self->monitor(self->state.registry);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  // Any other message: an error for a request, nothing for the registry.
  self->set_default_handler([](caf::scheduled_actor* ptr, caf::message_view& x) {
    log_rejected(static_cast<gate_actor*>(ptr), "unknown", "not a forwarded command: "
                 + x.content().stringify().substr(0, 200), {});
    return caf::drop(ptr, x);
  });
  return {
    [self](fetch_atom a, const std::string& id) -> caf::result<order_reply> {
      auto what = check_peer_order_id(id);
      return pass<order_reply>(self, "fetch", what, id, invalid(what), a, id);
    },
    [self](cancel_atom a, const std::string& id, const std::string& reason,
           const std::string& user_id,
           const std::string& traceparent) -> caf::result<order_reply> {
      auto what = check_peer_cancel(id, reason, user_id, traceparent);
      return pass<order_reply>(self, "cancel", what, id, invalid(what), a, id, reason, user_id,
                               traceparent);
    },
    [self](event_atom a, const incoming_event& ev) -> caf::result<event_reply> {
      auto what = check_peer_value(ev);
      return pass<event_reply>(self, "event", what, ev.order_id, ignored, a, ev);
    },
    [self](expire_atom a, const std::string& id) -> caf::result<event_reply> {
      auto what = check_peer_order_id(id);
      return pass<event_reply>(self, "expire", what, id, ignored, a, id);
    },
    [self](hello_atom a, const std::string& node_id, const caf::actor& gate) {
      // A peer speaks for its own node only.
      auto sender = self->current_sender();
      if (!sender || !gate || gate.node() != sender->node() || node_id.empty()
          || node_id.size() > peer_max_node_id) {
        log_rejected(self, "hello", "not the gate of the sending node", {});
        return;
      }
      if (self->state.member)
        self->send(self->state.member, a, node_id, gate);
    },
    [self](member_atom, const caf::actor& member) {
      auto sender = self->current_sender();
      if (sender && sender->node() == self->node())
        self->state.member = member;
    },
  };
}

} // namespace

caf::actor spawn_cluster_gate(caf::actor_system& sys, order_api registry) {
  return sys.spawn(cluster_gate, std::move(registry));
}

} // namespace flashsale
