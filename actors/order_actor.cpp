#include "actors/order_actor.hpp"

#include "actors/protocol.hpp"

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>

namespace flashsale {

namespace {

/// A write found the row changed under it (another writer during a handover): reload
/// and decide again, a few times at most.
constexpr int max_stale_retries = 3;

struct order_state {
  std::string id;
  std::optional<order> current;
  api_error unavailable_reason{error_code::order_not_found, "order not found"};
  caf::actor registry;
  caf::actor writers;
  caf::actor readers;
  order_settings settings;
  static inline const char* name = "order_actor";
};

using order_self = caf::stateful_actor<order_state>;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<std::int64_t> deadline_for(order_status s, const order_settings& cfg,
                                         std::int64_t now_s) {
  switch (s) {
    case order_status::created:
      return now_s + cfg.ttl_created.count();
    case order_status::reserved:
      return now_s + cfg.ttl_reserved.count();
    case order_status::payment_pending:
      return now_s + cfg.ttl_payment_pending.count();
    default:
      return std::nullopt;
  }
}

std::optional<outgoing_event> event_for(const order& o, const transition& t, std::int64_t ms) {
  switch (t.emits) {
    case order_event::order_cancelled:
      return make_order_cancelled(o.id, t.reason, ms);
    case order_event::order_expired:
      return make_order_expired(o.id, t.reason, ms);
    case order_event::order_paid:
      return make_order_paid(o.id, ms);
    default:
      return std::nullopt;
  }
}

write_command make_write(const order& o, const transition& t, const order_settings& cfg) {
  write_command cmd;
  cmd.order_id = o.id;
  cmd.expected = o.status;
  cmd.next = t.to;
  cmd.reason = t.reason;
  cmd.now_ms = now_ms();
  cmd.deadline = deadline_for(t.to, cfg, cmd.now_ms / 1000);
  cmd.event = event_for(o, t, cmd.now_ms);
  return cmd;
}

void apply_write(order& o, const write_command& cmd) {
  o.status = cmd.next;
  o.reason = cmd.reason;
  o.updated_at = cmd.now_ms / 1000;
  o.expired_at = cmd.deadline;
}

/// Loads the order from the database before any other message is handled.
void load(order_self* self, std::function<void()> then) {
  auto& st = self->state;
  self->request(st.readers, st.settings.db_timeout, load_atom::value, st.id)
    .await(
      [=](load_reply& r) {
        auto& st = self->state;
        st.current.reset();
        if (r.found)
          st.current = std::move(r.value);
        else if (r.failed)
          st.unavailable_reason = r.error;
        else
          st.unavailable_reason = {error_code::order_not_found, "order not found"};
        then();
      },
      [=](caf::error&) {
        self->state.current.reset();
        self->state.unavailable_reason = {error_code::unavailable, "database did not answer"};
        then();
      });
}

void request_passivation(order_self* self) {
  self->send(self->state.registry, passivate_atom::value, self->state.id,
             caf::actor_cast<caf::actor>(self));
}

/// An actor without a loaded order answers errors until the registry stops it.
void passivate_if_empty(order_self* self) {
  if (!self->state.current)
    request_passivation(self);
}

void decide_cancel(order_self* self, std::string reason, std::string user_id,
                   caf::typed_response_promise<order_reply> rp, int attempt) {
  auto& st = self->state;
  if (!st.current) {
    rp.deliver(order_reply{false, {}, st.unavailable_reason});
    return;
  }
  const order& o = *st.current;
  if (!user_id.empty() && user_id != o.user_id) {
    rp.deliver(reply_error(error_code::forbidden, "the order belongs to another user"));
    return;
  }
  if (o.status == order_status::cancelled) {
    rp.deliver(reply_ok(o));
    return;
  }
  auto t = next_transition(o.status, order_trigger::user_cancel, reason);
  if (!t) {
    rp.deliver(reply_error(error_code::order_invalid_state,
                           "an order in status " + std::string{to_string(o.status)}
                             + " cannot be cancelled"));
    return;
  }
  auto cmd = make_write(o, *t, st.settings);
  self->request(st.writers, st.settings.db_timeout, write_atom::value, cmd)
    .await(
      [=](write_outcome& out) mutable {
        auto& st = self->state;
        switch (out.status) {
          case write_status::applied:
            apply_write(*st.current, cmd);
            rp.deliver(reply_ok(*st.current));
            return;
          case write_status::stale:
          case write_status::duplicate:
            if (attempt >= max_stale_retries) {
              rp.deliver(reply_error(error_code::unavailable, "order is busy, retry"));
              return;
            }
            load(self, [=] { decide_cancel(self, reason, user_id, rp, attempt + 1); });
            return;
          case write_status::not_found:
            st.current.reset();
            rp.deliver(reply_error(error_code::order_not_found, "order not found"));
            return;
          case write_status::failed:
            rp.deliver(order_reply{false, {}, out.error});
            return;
        }
      },
      [=](caf::error&) mutable {
        rp.deliver(reply_error(error_code::unavailable, "database did not answer"));
      });
}

caf::behavior order_behavior(order_self* self, std::string order_id, caf::actor registry,
                             caf::actor writers, caf::actor readers, order_settings settings) {
  auto& st = self->state;
  st.id = std::move(order_id);
  st.registry = std::move(registry);
  st.writers = std::move(writers);
  st.readers = std::move(readers);
  st.settings = settings;
  // Order actors live and die with their registry.
  self->monitor(st.registry);
  self->set_down_handler([=](caf::down_msg& dm) { self->quit(dm.reason); });
  load(self, [=] { passivate_if_empty(self); });
  return {
    [=](fetch_atom, const std::string&) {
      auto& st = self->state;
      return st.current ? reply_ok(*st.current) : order_reply{false, {}, st.unavailable_reason};
    },
    [=](cancel_atom, const std::string&, std::string& reason,
        std::string& user_id) -> caf::result<order_reply> {
      auto rp = self->make_response_promise<order_reply>();
      decide_cancel(self, std::move(reason), std::move(user_id), rp, 0);
      return rp;
    },
    [=](stop_atom) { self->quit(); },
    caf::after(settings.passivate_after) >> [=] { request_passivation(self); },
  };
}

} // namespace

caf::actor spawn_order_actor(caf::local_actor* parent, std::string order_id,
                             caf::actor registry, caf::actor writers, caf::actor readers,
                             order_settings settings) {
  return parent->spawn(order_behavior, std::move(order_id), std::move(registry),
                       std::move(writers), std::move(readers), settings);
}

} // namespace flashsale
