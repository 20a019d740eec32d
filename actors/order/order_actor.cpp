#include "actors/order/order_actor.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "messages/clock.hpp"
#include "messages/saga_step.hpp"

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <chrono>
#include <functional>

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
  bool has_early = false; // events are held for this order (early_events)
  bool replaying = false; // a replay of them is under way
  std::chrono::steady_clock::time_point last_active = std::chrono::steady_clock::now();
  static inline const char* name = "order_actor";
};

using order_self = caf::stateful_actor<order_state>;

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
  cmd.now_ms = unix_now_ms();
  cmd.deadline = deadline_for(t.to, cfg, cmd.now_ms / 1000);
  cmd.event = event_for(o, t, cmd.now_ms);
  return cmd;
}

/// Keeps the order as the guarded UPDATE leaves its row: a write without a change of
/// status (a hold, a release, a payment rejection) changes no column, updated_at
/// included, so a GET after a reload answers the same (issue 22).
void apply_write(order& o, const write_command& cmd) {
  if (cmd.next == cmd.expected)
    return;
  o.status = cmd.next;
  o.reason = cmd.reason;
  o.updated_at = cmd.now_ms / 1000;
  o.expired_at = cmd.deadline;
}

void request_passivation(order_self* self);

/// An actor without a loaded order (the load failed, or the row is gone) must not stay:
/// it would answer every later message with the same failure while that traffic keeps
/// it from passivating. It asks the registry to stop it, so that the next message for
/// the order starts a fresh actor that loads again (the messages already queued here
/// are answered with the failure).
void end_if_empty(order_self* self) {
  if (!self->state.current)
    request_passivation(self);
}

/// Loads the order from the database before any other message is handled.
void load(order_self* self, std::function<void()> then) {
  auto& st = self->state;
  self->request(st.readers, st.settings.db_timeout, load_atom::value, st.id)
    .await(
      [=](load_reply& r) {
        auto& st = self->state;
        st.current.reset();
        st.has_early = r.has_early;
        if (r.found)
          st.current = std::move(r.value);
        else if (r.failed)
          st.unavailable_reason = r.error;
        else
          st.unavailable_reason = {error_code::order_not_found, "order not found"};
        end_if_empty(self);
        then();
      },
      [=](caf::error&) {
        self->state.current.reset();
        self->state.unavailable_reason = {error_code::unavailable, "database did not answer"};
        end_if_empty(self);
        then();
      });
}

void request_passivation(order_self* self) {
  self->send(self->state.registry, passivate_atom::value, self->state.id,
             caf::actor_cast<caf::actor>(self));
}

/// Passivation after `passivate_after` without a command. One timer per idle period
/// instead of a receive timeout: CAF re-arms a receive timeout after every message
/// (three per saga event: the event, the load and the write answers), each one a trip
/// through the clock thread. The check re-arms itself for the rest of the period, and
/// keeps asking while the registry has not stopped the actor.
void arm_idle_check(order_self* self, std::chrono::steady_clock::duration delay) {
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(delay)
                             + std::chrono::milliseconds{1},
                     idle_check_atom::value);
}

void check_idle(order_self* self) {
  auto& st = self->state;
  auto idle = std::chrono::steady_clock::now() - st.last_active;
  if (idle >= st.settings.passivate_after) {
    request_passivation(self);
    arm_idle_check(self, st.settings.passivate_after);
  } else {
    arm_idle_check(self, st.settings.passivate_after - idle);
  }
}

void touch(order_self* self) {
  self->state.last_active = std::chrono::steady_clock::now();
}

/// How a guarded write ended, as the deciding functions need it.
enum class commit_end { applied, duplicate, not_found, failed, rejected };

/// A write the database refused for its own values (persistence isolates it from its
/// batch): retrying cannot help.
bool is_rejected(const write_outcome& out) {
  return out.error.code == error_code::validation_failed
         || out.error.code == error_code::invalid_request;
}

using commit_done = std::function<void(commit_end, api_error)>;
using retry_fn = std::function<void(int attempt)>;

void arm_deadline(order_self* self);
void replay_early(order_self* self);

/// Commits `cmd` through a writer and keeps the in-memory order in step with the row.
/// A stale guard (someone else wrote) reloads the order and calls `retry` to decide
/// again; a duplicate inbox id reloads too, since another writer applied it.
void commit(order_self* self, write_command cmd, int attempt, retry_fn retry,
            commit_done done) {
  auto& st = self->state;
  self->request(st.writers, st.settings.db_timeout, write_atom::value, cmd)
    .await(
      [=](write_outcome& out) {
        auto& st = self->state;
        switch (out.status) {
          case write_status::applied:
            apply_write(*st.current, cmd);
            arm_deadline(self);
            done(commit_end::applied, {});
            if (cmd.next != cmd.expected) // held events may act in the new state
              replay_early(self);
            return;
          case write_status::stale:
            if (attempt >= max_stale_retries) {
              done(commit_end::failed, {error_code::unavailable, "order is busy, retry"});
              return;
            }
            load(self, [=] { retry(attempt + 1); });
            return;
          case write_status::duplicate:
            load(self, [=] { done(commit_end::duplicate, {}); });
            return;
          case write_status::not_found:
            st.current.reset();
            end_if_empty(self);
            done(commit_end::not_found, {error_code::order_not_found, "order not found"});
            return;
          case write_status::failed:
            done(is_rejected(out) ? commit_end::rejected : commit_end::failed, out.error);
            return;
        }
      },
      [=](caf::error&) {
        done(commit_end::failed, {error_code::unavailable, "database did not answer"});
      });
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
  auto retry = [=](int next) { decide_cancel(self, reason, user_id, rp, next); };
  commit(self, make_write(o, *t, st.settings), attempt, retry,
         [=](commit_end end, api_error err) mutable {
           auto& st = self->state;
           if (end == commit_end::failed || end == commit_end::rejected
               || end == commit_end::not_found || !st.current)
             rp.deliver(order_reply{false, {}, err});
           else
             rp.deliver(reply_ok(*st.current));
         });
}

using event_done = std::function<void(event_reply)>;

event_reply answer(order_self* self, event_status s) {
  auto& cur = self->state.current;
  return {s, cur ? cur->status : order_status::created};
}

/// The status of an order the actor could not load: missing, or not known yet because
/// the database is unavailable (then the event must be delivered again).
event_status without_order(order_self* self) {
  return self->state.unavailable_reason.code == error_code::order_not_found
           ? event_status::not_found
           : event_status::failed;
}

/// Finishes a commit by telling the caller what became of its event.
commit_done finish_event(order_self* self, event_status on_applied, event_done done) {
  return [=](commit_end end, api_error) {
    switch (end) {
      case commit_end::applied:
        done(answer(self, on_applied));
        return;
      case commit_end::duplicate:
        done(answer(self, event_status::duplicate));
        return;
      case commit_end::not_found:
        done(answer(self, event_status::not_found));
        return;
      case commit_end::failed:
        done(answer(self, event_status::failed));
        return;
      case commit_end::rejected:
        log::error("saga event rejected by the database", {{"order_id", self->state.id}});
        done(answer(self, event_status::rejected));
        return;
    }
  };
}

/// A write that leaves the order as it is (the UPDATE to itself orders it with the
/// order's other writes): for what an event records without a transition.
write_command unchanged_write(const order& o) {
  write_command cmd;
  cmd.order_id = o.id;
  cmd.expected = o.status;
  cmd.next = o.status;
  cmd.reason = o.reason;
  cmd.deadline = o.expired_at;
  cmd.now_ms = unix_now_ms();
  return cmd;
}

/// A payment succeeded for an order that can no longer be paid: no transition, but
/// ORDER_PAYMENT_REJECTED tells the Payment service to refund.
write_command payment_rejection(const order& o, const incoming_event& ev) {
  auto cmd = unchanged_write(o);
  auto why = o.status == order_status::expired ? "ORDER_EXPIRED" : "ORDER_CANCELLED";
  cmd.event = make_order_payment_rejected(o.id, ev.payment_intent_id, why, cmd.now_ms);
  return cmd;
}

/// An event that came before its order can take it: its inbox row and its early_events
/// row, no status change.
write_command hold_write(const order& o, const incoming_event& ev) {
  auto cmd = unchanged_write(o);
  cmd.hold_body = encode_incoming(ev);
  return cmd;
}

/// The write for `step` (not ignore) of `ev` in the current state.
write_command step_write(order_self* self, saga_step step, const incoming_event& ev) {
  const order& o = *self->state.current;
  switch (step) {
    case saga_step::apply:
      return make_write(o, *next_transition(o.status, *trigger_for(ev.event_type)),
                        self->state.settings);
    case saga_step::reject:
      return payment_rejection(o, ev);
    case saga_step::hold:
      return hold_write(o, ev);
    case saga_step::ignore:
      break;
  }
  auto cmd = hold_write(o, ev); // no effect: the UPDATE to itself only
  cmd.hold_body.clear();
  return cmd;
}

const char* to_string_step(saga_step step) {
  switch (step) {
    case saga_step::apply:
      return "applied";
    case saga_step::reject:
      return "payment_rejected";
    case saga_step::hold:
      return "held";
    case saga_step::ignore:
      break;
  }
  return "no_effect";
}

event_status status_of(saga_step step) {
  switch (step) {
    case saga_step::reject:
      return event_status::payment_rejected;
    case saga_step::hold:
      return event_status::held;
    default:
      return event_status::applied;
  }
}

void decide_event(order_self* self, incoming_event ev, event_done done, int attempt) {
  auto& st = self->state;
  if (!st.current) {
    done({without_order(self), order_status::created});
    return;
  }
  auto step = saga_step_for(ev.event_type, st.current->status);
  if (step == saga_step::ignore) { // also INVENTORY_RELEASED: acknowledged, no transition
    done(answer(self, event_status::ignored));
    return;
  }
  auto cmd = step_write(self, step, ev);
  cmd.inbox_event_id = ev.event_id;
  cmd.inbox_event_type = ev.event_type;
  auto retry = [=](int next) { decide_event(self, ev, done, next); };
  auto finish = finish_event(self, status_of(step), done);
  commit(self, std::move(cmd), attempt, retry, [=](commit_end end, api_error err) {
    if (end == commit_end::applied && step == saga_step::hold) {
      self->state.has_early = true;
      log::debug("saga event came before its order can take it, held",
                 {{"order_id", ev.order_id}, {"event_id", ev.event_id},
                  {"event_type", ev.event_type}});
    }
    finish(end, err);
  });
}

// -- held events ------------------------------------------------------------------------

using held_list = std::vector<incoming_event>;

void replay_next(order_self* self, held_list held, int attempt);

void end_replay(order_self* self, bool rows_left) {
  self->state.replaying = false;
  self->state.has_early = rows_left;
}

/// The held events in the order they came; one whose text no longer decodes (it was
/// written by this service, so only a bug makes that) keeps its id and no type, and
/// is released without effect.
held_list decode_held(const std::string& order_id, std::vector<held_event>& rows) {
  held_list held;
  for (auto& row : rows) {
    auto decoded = decode_incoming(row.body);
    if (auto* ev = std::get_if<incoming_event>(&decoded)) {
      held.push_back(std::move(*ev));
      continue;
    }
    log::error("held saga event cannot be decoded, released without effect",
               {{"order_id", order_id}, {"event_id", row.event_id}});
    incoming_event bad;
    bad.event_id = row.event_id;
    bad.order_id = order_id;
    held.push_back(std::move(bad));
  }
  return held;
}

/// Re-decides the order's held events now that it is past CREATED: the first one that
/// can act (apply, reject, or be dropped) commits with the release of its row, then the
/// rest are decided again in the new state. Runs inside the actor (awaits), so no other
/// message of the order comes between; a failure leaves the rows for the next
/// transition, load or sweeper expiry.
void replay_early(order_self* self) {
  auto& st = self->state;
  if (st.replaying || !st.has_early || !st.current || st.current->status == order_status::created)
    return;
  st.replaying = true;
  self->request(st.readers, st.settings.db_timeout, early_atom::value, st.id)
    .await(
      [=](early_reply& r) {
        if (r.failed) {
          log::warn("held saga events not read, replayed later", {{"order_id", self->state.id}});
          end_replay(self, true);
          return;
        }
        replay_next(self, decode_held(self->state.id, r.events), 0);
      },
      [=](caf::error&) {
        log::warn("held saga events not read, replayed later", {{"order_id", self->state.id}});
        end_replay(self, true);
      });
}

/// Releases the held event's row without effect (the UPDATE to itself), then goes on
/// with the rest; if that fails, the row stays and is replayed again later.
void release_held(order_self* self, std::string event_id, held_list rest, int attempt) {
  auto& st = self->state;
  if (!st.current) {
    end_replay(self, true);
    return;
  }
  auto cmd = unchanged_write(*st.current);
  cmd.release_event_id = event_id;
  auto retry = [=](int next) { release_held(self, event_id, rest, next); };
  commit(self, std::move(cmd), attempt, retry, [=](commit_end end, api_error) {
    if (end == commit_end::failed || end == commit_end::rejected) {
      log::warn("held saga event copied to the DLQ but not released, replayed later",
                {{"order_id", self->state.id}, {"event_id", event_id}});
      end_replay(self, true);
      return;
    }
    replay_next(self, rest, 0);
  });
}

/// A held event whose write the database rejects at replay goes to order.v1.dlq like
/// a rejected event straight from Kafka (CONTRACT §5, dlq_reason rejected_by_database),
/// through the saga consumer of this process, and only once the copy is acknowledged
/// its row is released: a crash in between copies it again, it is never dropped
/// uncopied. Without a consumer here, or if the copy fails, the row stays for a later
/// replay.
void dead_letter_held(order_self* self, incoming_event ev, held_list rest) {
  auto& st = self->state;
  auto keep = [=](const char* why) {
    log::warn("held saga event rejected by the database, not copied to the DLQ yet",
              {{"order_id", ev.order_id}, {"event_id", ev.event_id}, {"why", why}});
    end_replay(self, true);
  };
  auto sink = caf::actor_cast<caf::actor>(self->home_system().registry().get(dlq_atom::value));
  if (!sink) {
    keep("no saga consumer in this process");
    return;
  }
  self
    ->request(sink, st.settings.dlq_timeout, dlq_atom::value, ev.order_id, ev.event_id,
              ev.event_type, encode_incoming(ev))
    .await(
      [=](bool copied) {
        if (!copied) {
          keep("the DLQ did not take the copy");
          return;
        }
        release_held(self, ev.event_id, rest, 0);
      },
      [=](caf::error&) { keep("the saga consumer did not answer"); });
}

void replay_next(order_self* self, held_list held, int attempt) {
  auto& st = self->state;
  if (!st.current) {
    end_replay(self, true);
    return;
  }
  for (std::size_t i = 0; i < held.size(); ++i) {
    auto step = saga_step_for(held[i].event_type, st.current->status);
    if (step == saga_step::hold)
      continue; // still ahead of its order
    auto ev = held[i];
    auto cmd = step_write(self, step, ev);
    cmd.release_event_id = ev.event_id;
    auto retry = [=](int next) { replay_next(self, held, next); };
    auto rest = held;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    commit(self, std::move(cmd), attempt, retry, [=](commit_end end, api_error) {
      if (end == commit_end::failed) {
        log::warn("held saga event not replayed, replayed later",
                  {{"order_id", ev.order_id}, {"event_id", ev.event_id}});
        end_replay(self, true);
        return;
      }
      if (end == commit_end::rejected) {
        dead_letter_held(self, ev, rest);
        return;
      }
      log::info("held saga event replayed",
                {{"order_id", ev.order_id}, {"event_id", ev.event_id},
                 {"event_type", ev.event_type},
                 {"outcome", end == commit_end::applied ? to_string_step(step) : "duplicate"}});
      replay_next(self, rest, 0);
    });
    return;
  }
  end_replay(self, !held.empty());
}

/// Applies the current state's deadline if it has passed.
void decide_deadline(order_self* self, event_done done, int attempt) {
  auto& st = self->state;
  if (!st.current) {
    done({without_order(self), order_status::created});
    return;
  }
  const order& o = *st.current;
  auto t = next_transition(o.status, order_trigger::deadline);
  if (!t || !o.expired_at || *o.expired_at * 1000 > unix_now_ms()) {
    done(answer(self, event_status::ignored));
    replay_early(self); // the sweeper also expires orders whose held events wait (000008)
    return;
  }
  auto retry = [=](int next) { decide_deadline(self, done, next); };
  commit(self, make_write(o, *t, st.settings), attempt, retry,
         finish_event(self, event_status::applied, done));
}

/// A timer for the current state's deadline; stale timers find another status and
/// do nothing.
void arm_deadline(order_self* self) {
  auto& cur = self->state.current;
  if (!cur || !cur->expired_at || is_terminal(cur->status))
    return;
  auto delay = std::max<std::int64_t>(0, *cur->expired_at * 1000 - unix_now_ms());
  self->delayed_send(self, std::chrono::milliseconds{delay}, deadline_atom::value, cur->status);
}

void log_failed_deadline(const std::string& id, const event_reply& r) {
  if (r.status == event_status::failed)
    log::warn("deadline not applied, the sweeper retries", {{"order_id", id}});
}

caf::behavior order_behavior(order_self* self, std::string order_id, caf::actor registry,
                             caf::actor writers, caf::actor readers, order_settings settings) {
  auto& st = self->state;
  st.id = std::move(order_id);
  st.registry = std::move(registry);
  st.writers = std::move(writers);
  st.readers = std::move(readers);
  st.settings = settings;
  // Order actors live and die with their registry, which stops them when it ends (no
  // monitor here: each would stay attached to the registry, and keep the memory of the
  // passivated actor, until the registry ends).
  load(self, [=] {
    arm_deadline(self);
    replay_early(self); // a crash may have come between a transition and its replay
  });
  arm_idle_check(self, settings.passivate_after);
  return {
    [=](fetch_atom, const std::string&) {
      touch(self);
      auto& st = self->state;
      return st.current ? reply_ok(*st.current) : order_reply{false, {}, st.unavailable_reason};
    },
    [=](cancel_atom, const std::string&, std::string& reason,
        std::string& user_id) -> caf::result<order_reply> {
      touch(self);
      auto rp = self->make_response_promise<order_reply>();
      decide_cancel(self, std::move(reason), std::move(user_id), rp, 0);
      return rp;
    },
    [=](event_atom, incoming_event& ev) -> caf::result<event_reply> {
      touch(self);
      auto rp = self->make_response_promise<event_reply>();
      decide_event(self, std::move(ev), [rp](event_reply r) mutable { rp.deliver(r); }, 0);
      return rp;
    },
    [=](expire_atom, const std::string&) -> caf::result<event_reply> {
      touch(self);
      auto rp = self->make_response_promise<event_reply>();
      decide_deadline(self, [rp](event_reply r) mutable { rp.deliver(r); }, 0);
      return rp;
    },
    [=](deadline_atom, order_status armed_for) {
      auto& cur = self->state.current;
      if (!cur || cur->status != armed_for)
        return;
      auto id = self->state.id;
      decide_deadline(self, [id](event_reply r) { log_failed_deadline(id, r); }, 0);
    },
    [=](stop_atom) { self->quit(); },
    [=](idle_check_atom) { check_idle(self); },
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
