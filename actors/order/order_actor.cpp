#include "actors/order/order_actor.hpp"

#include "actors/log.hpp"
#include "actors/order/order_decisions.hpp"
#include "messages/clock.hpp"
#include "messages/trace_context.hpp"

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <functional>
#include <optional>

namespace flashsale {

namespace {

struct order_state {
  std::optional<order_decisions> core; // set first thing in order_behavior
  order_registry_api registry;
  order_ports ports; // writers, readers, the DLQ sink
  shard_fence fence; // carried by every write
  order_settings settings;
  caf::actor_clock::time_point last_active; // on the actor system's clock
  static inline const char* name = "order_actor";
};

using order_self = order_actor_api::stateful_pointer<order_state>;

order_decisions& core(order_self self) { return *self->state.core; }

const std::string& id_of(order_self self) { return core(self).id(); }

void request_passivation(order_self self) {
  self->send(self->state.registry, passivate_atom::value, id_of(self),
             caf::actor_cast<order_actor_api>(self));
}

/// An actor without a loaded order (the load failed, the row is gone) must not stay: it
/// would answer every later message with the same failure while that traffic keeps it
/// from passivating. The registry stops it; the next message starts a fresh actor that
/// loads again (messages already queued here are answered with the failure).
void end_if_empty(order_self self) {
  if (core(self).empty())
    request_passivation(self);
}

/// Loads the order from the database before any other message is handled.
void load(order_self self, std::function<void()> then) {
  auto& st = self->state;
  self->request(st.ports.readers, st.settings.db_timeout, load_atom::value, id_of(self))
    .await(
      [=](load_reply& r) {
        core(self).loaded(r);
        end_if_empty(self);
        then();
      },
      [=](caf::error&) {
        core(self).load_unanswered();
        end_if_empty(self);
        then();
      });
}

/// Passivation after `passivate_after` without a command. One timer per idle period
/// instead of a receive timeout: CAF re-arms a receive timeout after every message
/// (three per saga event: the event, the load and the write answers), each one a trip
/// through the clock thread. The check re-arms itself for the rest of the period, and
/// keeps asking while the registry has not stopped the actor. Idle time is measured
/// on the actor system's clock, which tests drive.
void arm_idle_check(order_self self, caf::actor_clock::duration_type delay) {
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::milliseconds>(delay)
                             + std::chrono::milliseconds{1},
                     idle_check_atom::value);
}

void check_idle(order_self self) {
  auto& st = self->state;
  auto idle = self->clock().now() - st.last_active;
  if (idle >= st.settings.passivate_after) {
    request_passivation(self);
    arm_idle_check(self, st.settings.passivate_after);
  } else {
    arm_idle_check(self, st.settings.passivate_after - idle);
  }
}

void touch(order_self self) {
  self->state.last_active = self->clock().now();
}

using commit_done = std::function<void(commit_end, api_error)>;
using retry_fn = std::function<void(int attempt)>;

/// A timer for the current state's deadline; stale timers find another status and
/// do nothing.
void arm_deadline(order_self self) {
  auto delay = core(self).deadline_in(unix_now_ms());
  if (delay)
    self->delayed_send(self, *delay, deadline_atom::value, core(self).current()->status);
}

void replay_early(order_self self);

/// Performs what the core made of a write's answer: finish (after a reload for a
/// duplicate), or reload and decide again (`retry`) for a stale guard.
void after_write(order_self self, const commit_step& s, int attempt, const retry_fn& retry,
                 const commit_done& done) {
  if (s.passivate)
    end_if_empty(self);
  switch (s.next) {
    case commit_step::reload_and_retry:
      load(self, [=] { retry(attempt + 1); });
      return;
    case commit_step::reload_and_finish:
      load(self, [=] { done(s.end, s.error); });
      return;
    case commit_step::finish:
      if (s.arm_deadline)
        arm_deadline(self);
      done(s.end, s.error);
      if (s.replay_held)
        replay_early(self);
      return;
  }
}

/// Commits `cmd` through a writer; the core keeps the in-memory order in step with
/// the row.
void commit(order_self self, write_command cmd, int attempt, retry_fn retry,
            commit_done done) {
  auto& st = self->state;
  cmd.fence = st.fence;
  self->request(st.ports.writers, st.settings.db_timeout, write_atom::value, cmd)
    .await(
      [=](write_outcome& out) {
        after_write(self, core(self).written(cmd, out, attempt), attempt, retry, done);
      },
      [=](caf::error&) {
        after_write(self, core(self).write_unanswered(), attempt, retry, done);
      });
}

void decide_cancel(order_self self, std::string reason, std::string user_id,
                   std::string traceparent, caf::typed_response_promise<order_reply> rp,
                   int attempt) {
  auto d = core(self).cancel(reason, user_id, unix_now_ms());
  if (d.reply) {
    rp.deliver(std::move(*d.reply));
    return;
  }
  auto retry = [=](int next) { decide_cancel(self, reason, user_id, traceparent, rp, next); };
  commit(self, traced(std::move(*d.write), traceparent), attempt, retry,
         [=](commit_end end, api_error err) mutable {
           rp.deliver(core(self).cancel_finished(end, err));
         });
}

using event_done = std::function<void(event_reply)>;

void log_rejected(order_self self, commit_end end) {
  if (end == commit_end::rejected)
    log::error("saga event rejected by the database", {{"order_id", id_of(self)}});
}

void decide_event(order_self self, incoming_event ev, event_done done, int attempt) {
  auto d = core(self).event(ev, unix_now_ms());
  if (d.reply) {
    done(*d.reply);
    return;
  }
  auto step = d.step;
  auto retry = [=](int next) { decide_event(self, ev, done, next); };
  commit(self, traced(std::move(*d.write), ev.traceparent), attempt, retry,
         [=](commit_end end, api_error) {
    if (end == commit_end::applied && step == saga_step::hold)
      log::debug("saga event came before its order can take it, held",
                 {{"order_id", ev.order_id}, {"event_id", ev.event_id},
                  {"event_type", ev.event_type}, log::trace_field(ev.traceparent)});
    log_rejected(self, end);
    done(core(self).event_finished(end, step));
  });
}

/// Applies the current state's deadline if it has passed.
void decide_deadline(order_self self, event_done done, int attempt) {
  auto d = core(self).expire(unix_now_ms());
  if (d.reply) {
    done(*d.reply);
    if (d.replay_held)
      replay_early(self);
    return;
  }
  auto retry = [=](int next) { decide_deadline(self, done, next); };
  // A deadline has no request or event behind it: its event starts a trace.
  commit(self, traced(std::move(*d.write), next_traceparent({})), attempt, retry,
         [=](commit_end end, api_error) {
    log_rejected(self, end);
    done(core(self).expire_finished(end));
  });
}

void replay_next(order_self self, held_events held, int attempt);

void end_replay(order_self self, bool rows_left) {
  core(self).replay_ended(rows_left);
}

/// Re-decides the order's held events now that it is past CREATED: the first one that
/// can act (apply, reject, or be dropped) commits with the release of its row, then the
/// rest are decided again in the new state. Runs inside the actor (awaits), so no other
/// message of the order comes between; a failure leaves the rows for the next
/// transition, load or sweeper expiry.
void replay_early(order_self self) {
  if (!core(self).replay_due())
    return;
  core(self).replay_started();
  auto not_read = [=] {
    log::warn("held saga events not read, replayed later", {{"order_id", id_of(self)}});
    end_replay(self, true);
  };
  self->request(self->state.ports.readers, self->state.settings.db_timeout, early_atom::value,
                id_of(self))
    .await(
      [=](early_reply& r) {
        if (r.failed) {
          not_read();
          return;
        }
        std::vector<std::string> undecodable;
        auto held = held_events::decode(id_of(self), r.events, undecodable);
        for (const auto& event_id : undecodable)
          log::error("held saga event cannot be decoded, released without effect",
                     {{"order_id", id_of(self)}, {"event_id", event_id}});
        replay_next(self, std::move(held), 0);
      },
      [=](caf::error&) { not_read(); });
}

/// Releases the held event's row without effect (the UPDATE to itself), then goes on
/// with the rest; if that fails, the row stays and is replayed again later.
void release_held(order_self self, std::string event_id, held_events rest, int attempt) {
  if (core(self).empty()) {
    end_replay(self, true);
    return;
  }
  auto retry = [=](int next) { release_held(self, event_id, rest, next); };
  commit(self, core(self).release_write(event_id, unix_now_ms()), attempt, retry,
         [=](commit_end end, api_error) {
           if (!order_decisions::released(end)) {
             log::warn("held saga event copied to the DLQ but not released, replayed later",
                       {{"order_id", id_of(self)}, {"event_id", event_id}});
             end_replay(self, true);
             return;
           }
           replay_next(self, rest, 0);
         });
}

/// A held event whose write the database rejects at replay goes to order.v1.dlq like
/// a rejected event straight from Kafka (CONTRACT §5, dlq_reason rejected_by_database),
/// through the DLQ sink service.cpp handed over, and only once the copy is acknowledged
/// its row is released: a crash in between copies it again, it is never dropped
/// uncopied. Without a sink, or if the copy fails, the row stays for a later replay.
void dead_letter_held(order_self self, incoming_event ev, held_events rest) {
  auto keep = [=](const char* why) {
    log::warn("held saga event rejected by the database, not copied to the DLQ yet",
              {{"order_id", ev.order_id}, {"event_id", ev.event_id}, {"why", why},
               log::trace_field(ev.traceparent)});
    end_replay(self, true);
  };
  const auto& sink = self->state.ports.dlq;
  if (!sink) {
    keep("no DLQ sink in this process");
    return;
  }
  self
    ->request(sink, self->state.settings.dlq_timeout, dlq_atom::value, ev.order_id, ev.event_id,
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

void replay_next(order_self self, held_events held, int attempt) {
  if (core(self).empty()) {
    end_replay(self, true);
    return;
  }
  auto p = held.next(core(self).current()->status);
  if (!p) {
    end_replay(self, !held.empty());
    return;
  }
  auto ev = held.at(p->index);
  auto step = p->step;
  auto rest = held.without(p->index);
  auto retry = [=](int next) { replay_next(self, held, next); };
  commit(self, traced(core(self).held_write(held, *p, unix_now_ms()), ev.traceparent), attempt,
         retry,
         [=](commit_end end, api_error) {
           switch (core(self).held_finished(end)) {
             case held_next::stop:
               log::warn("held saga event not replayed, replayed later",
                         {{"order_id", ev.order_id}, {"event_id", ev.event_id},
                          log::trace_field(ev.traceparent)});
               end_replay(self, true);
               return;
             case held_next::dead_letter:
               dead_letter_held(self, ev, rest);
               return;
             case held_next::go_on:
               break;
           }
           log::info("held saga event replayed",
                     {{"order_id", ev.order_id}, {"event_id", ev.event_id},
                      {"event_type", ev.event_type}, log::trace_field(ev.traceparent),
                      {"outcome", end == commit_end::applied ? to_string_step(step) : "duplicate"}});
           replay_next(self, rest, 0);
         });
}

order_actor_api::behavior_type order_behavior(order_self self, std::string order_id,
                                              order_registry_api registry,
                             order_ports ports, order_settings settings, shard_fence fence) {
  auto& st = self->state;
  st.core.emplace(std::move(order_id), settings);
  st.registry = std::move(registry);
  st.ports = std::move(ports);
  st.fence = fence;
  st.settings = settings;
  st.last_active = self->clock().now();
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
      return core(self).fetch();
    },
    [=](cancel_atom, const std::string&, std::string& reason, std::string& user_id,
        std::string& traceparent) -> caf::result<order_reply> {
      touch(self);
      auto rp = self->make_response_promise<order_reply>();
      decide_cancel(self, std::move(reason), std::move(user_id), std::move(traceparent), rp, 0);
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
      if (!core(self).deadline_current(armed_for))
        return;
      auto id = id_of(self);
      auto logged = [id](event_reply r) {
        if (r.status == event_status::failed)
          log::warn("deadline not applied, the sweeper retries", {{"order_id", id}});
      };
      decide_deadline(self, logged, 0);
    },
    [=](stop_atom) { self->quit(); },
    [=](idle_check_atom) { check_idle(self); },
  };
}

} // namespace

order_actor_api spawn_order_actor(caf::local_actor* parent, std::string order_id,
                                  order_registry_api registry, order_ports ports,
                                  order_settings settings, shard_fence fence) {
  return parent->spawn(order_behavior, std::move(order_id), std::move(registry),
                       std::move(ports), settings, fence);
}

} // namespace flashsale
