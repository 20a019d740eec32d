#include "actors/saga/kafka_consumer.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "actors/saga/consumer_state.hpp"
#include "kafka/consumer_client.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <utility>

namespace flashsale {

namespace {

using consume_tick_atom = caf::atom_constant<caf::atom("fs_ctick")>;
using retry_event_atom = caf::atom_constant<caf::atom("fs_cretry")>;

/// A failed event is logged on its first retry and then every this many.
constexpr int retry_log_every = 20;

using consumer_actor = caf::stateful_actor<consumer_state>;

// -- events -------------------------------------------------------------------------

void perform(consumer_actor* self, saga_actions act);

/// The next consume step, after `delay`; replaces any step scheduled before.
void schedule_tick(consumer_actor* self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  ++st.tick;
  if (delay.count() == 0)
    self->send(self, consume_tick_atom::value, st.tick);
  else
    self->delayed_send(self, delay, consume_tick_atom::value, st.tick);
}

/// The order's answer to the request with `ticket`.
void on_answer(consumer_actor* self, const std::string& order_id, std::uint64_t ticket,
               const event_reply& reply) {
  auto& st = self->state;
  perform(self, st.pipeline.on_reply(order_id, ticket, reply, st.now()));
  if (st.pipeline.flow().paused() && st.consumer) { // answers in: consume again right away
    flow_control(st);
    if (!st.pipeline.flow().paused())
      schedule_tick(self, std::chrono::milliseconds{0});
  }
}

void send_requests(consumer_actor* self, std::vector<saga_request>& requests) {
  auto& st = self->state;
  for (auto& r : requests) {
    auto order_id = r.event.order_id;
    auto ticket = r.ticket;
    self->request(st.registry, st.cfg.request_timeout, event_atom::value, std::move(r.event))
      .then([self, order_id, ticket](event_reply& rep) { on_answer(self, order_id, ticket, rep); },
            [self, order_id, ticket](caf::error&) {
              on_answer(self, order_id, ticket, event_reply{event_status::failed, {}});
            });
  }
}

/// Does what the pipeline decided: counts, copies to the DLQ, arms a retry, sends.
void perform(consumer_actor* self, saga_actions act) {
  auto& st = self->state;
  if (act.outcome)
    st.metrics.handled[*act.outcome]->inc();
  observe_handled(st, act.handled_seconds);
  if (act.stale_answer)
    st.metrics.stale_answers->inc();
  if (act.dlq)
    send_to_dlq(st, std::move(*act.dlq));
  if (act.retry_order) {
    st.metrics.retries->inc();
    if (act.attempts % retry_log_every == 1)
      log::warn("saga event not applied, retrying",
                {{"order_id", *act.retry_order}, {"attempt", std::to_string(act.attempts)}});
    self->delayed_send(self, act.retry_after, retry_event_atom::value, *act.retry_order);
  }
  send_requests(self, act.send);
}

void handle_message(consumer_actor* self, kafka::consumed_message m) {
  auto& st = self->state;
  auto in = st.pipeline.on_message(std::move(m), st.now());
  switch (in.what) {
    case saga_intake::not_ours:
      return;
    case saga_intake::poison:
      send_to_dlq(st, std::move(*in.dlq));
      return;
    case saga_intake::unknown_type:
      st.metrics.unknown_type->inc();
      log::debug("saga event of unknown type skipped",
                 {{"order_id", in.order_id}, {"event_type", in.event_type},
                  log::trace_field(in.traceparent)});
      return;
    case saga_intake::queued:
      st.metrics.consumed_of(in.event_type).inc();
      send_requests(self, in.send);
      return;
  }
}

/// Handles what one consume() gave; false when the step should stop consuming.
bool take(consumer_actor* self, kafka::consume_result r) {
  switch (r.what) {
    case kafka::consume_result::message:
      handle_message(self, std::move(r.msg));
      return true;
    case kafka::consume_result::partition_eof:
      return true;
    case kafka::consume_result::failed:
      log_consume_error(self->state, r.error);
      return false;
    case kafka::consume_result::nothing:
      break;
  }
  return false;
}

/// Consumes a batch; false when the step got nothing at all.
bool poll_messages(consumer_actor* self) {
  auto& st = self->state;
  // Block only while no answer waits in the mailbox: answers free in-flight slots.
  auto wait = self->mailbox().empty() ? st.cfg.poll_wait : std::chrono::milliseconds{0};
  std::size_t n = 0;
  for (; n < st.cfg.poll_batch && !st.pipeline.flow().paused(); ++n) {
    if (!take(self, st.consumer->consume(n == 0 ? wait : std::chrono::milliseconds{0})))
      break;
    flow_control(st);
  }
  // Paused: serve rebalances without blocking, so that answers, which free in-flight
  // slots, are taken as they come (the next step is a timer, or an answer resumes).
  // librdkafka 2.0 returns nothing of a paused partition (pause() raises its version
  // barrier and older fetched messages are dropped), but one whose pause it refused
  // still delivers, and consume() has moved past that message: it is handled like any
  // other, not dropped (the bound is exceeded by a message, not lost).
  if (st.pipeline.flow().paused())
    take(self, st.consumer->consume(std::chrono::milliseconds{0}));
  flow_control(st);
  return n > 0;
}

void consume_step(consumer_actor* self) {
  auto& st = self->state;
  if (!ensure_clients(st)) {
    schedule_tick(self, st.cfg.restart_pause);
    return;
  }
  st.dlq_writer->poll();
  st.dlq_writer->pump();
  st.ports.membership->poll(st);
  bool got = poll_messages(self);
  restart_if_unassigned(st);
  if (!st.consumer) {
    schedule_tick(self, st.cfg.restart_pause);
    return;
  }
  if (st.now() >= st.next_commit) {
    commit(st);
    update_gauges(st);
    st.next_commit = st.now() + st.cfg.commit_interval;
  }
  if (st.pipeline.flow().paused())
    schedule_tick(self, st.cfg.poll_wait);
  else
    schedule_tick(self, got ? std::chrono::milliseconds{0} : st.ports.idle_step);
}

caf::behavior kafka_consumer(consumer_actor* self, consumer_settings cfg, order_api registry,
                             shard_ports shards, consumer_ports ports, saga_metrics metrics) {
  auto& st = self->state;
  st.clock = &self->home_system().clock();
  st.ports = std::move(ports);
  st.cfg = std::move(cfg);
  st.registry = std::move(registry);
  st.shards = std::move(shards);
  st.metrics = std::move(metrics);
  st.pipeline = saga_pipeline{
    {st.cfg.max_in_flight, st.cfg.max_dispatched, {st.cfg.retry_base, st.cfg.retry_max}}};
  self->set_exit_handler([self](caf::exit_msg& msg) {
    shut_down(self->state);
    self->quit(msg.reason);
  });
  schedule_tick(self, std::chrono::milliseconds{0});
  return {
    [self](consume_tick_atom, std::uint64_t tick) {
      if (tick == self->state.tick)
        consume_step(self);
    },
    [self](retry_event_atom, const std::string& order_id) {
      perform(self, self->state.pipeline.on_retry(order_id));
    },
  };
}

} // namespace

caf::actor spawn_kafka_consumer(caf::actor_system& sys, const consumer_settings& settings,
                                order_api router, shard_ports shards,
                                metrics_registry& metrics) {
  return sys.spawn<caf::detached>(kafka_consumer, settings, std::move(router), std::move(shards),
                                  kafka_ports(), register_saga_metrics(metrics));
}

caf::actor spawn_saga_consumer_on_ports(caf::actor_system& sys, const consumer_settings& settings,
                                        order_api router, shard_ports shards,
                                        consumer_ports ports, metrics_registry& metrics) {
  return sys.spawn(kafka_consumer, settings, std::move(router), std::move(shards),
                   std::move(ports), register_saga_metrics(metrics));
}

} // namespace flashsale
