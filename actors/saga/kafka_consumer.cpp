#include "actors/saga/kafka_consumer.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "kafka/consumer_client.hpp"
#include "kafka/dlq_writer.hpp"
#include "actors/saga/saga_metrics.hpp"
#include "actors/saga/saga_pipeline.hpp"

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <unordered_map>
#include <utility>

namespace flashsale {

namespace {

using consume_tick_atom = caf::atom_constant<caf::atom("fs_ctick")>;
using retry_event_atom = caf::atom_constant<caf::atom("fs_cretry")>;

using steady = std::chrono::steady_clock;

/// A failed event is logged on its first retry and then every this many.
constexpr int retry_log_every = 20;

// -- state --------------------------------------------------------------------------

struct consumer_state {
  consumer_settings cfg;
  caf::actor registry;
  saga_metrics metrics;
  std::unique_ptr<kafka::consumer_client> consumer;
  std::unique_ptr<kafka::dlq_writer> dlq_writer;
  saga_pipeline pipeline; // every decision: offsets, chains, slots, retries, DLQ tokens
  std::uint64_t tick = 0; // the one consume_tick that counts; older ones are ignored
  steady::time_point next_commit{};
  steady::time_point quiet_until{};        // no consume error is logged before this
  steady::time_point client_quiet_until{}; // no refused call is logged before this
  /// DLQ copies of held events (dlq_atom) in flight, by token: answered when acknowledged.
  std::unordered_map<std::uint64_t, caf::response_promise> held_dlq;

  static inline const char* name = "kafka_consumer";
};

using consumer_actor = caf::stateful_actor<consumer_state>;

void observe_handled(consumer_state& st, std::optional<double> seconds) {
  if (seconds)
    st.metrics.handle_seconds->observe(*seconds);
}

/// Commits the handled prefix of the partitions in `only` (all when empty); logs
/// failures (the next round tries again).
void commit(consumer_state& st, const std::set<partition_id>& only = {}) {
  if (!st.consumer)
    return;
  std::vector<kafka::topic_partition> list;
  for (const auto& [id, pos] : st.pipeline.commits(only))
    list.push_back({id.first, id.second, pos});
  if (list.empty())
    return;
  auto failed = st.consumer->commit(list);
  for (const auto& tp : list)
    if (tp.ok)
      st.pipeline.committed({tp.topic, tp.partition}, tp.offset);
  if (failed)
    log::warn("saga consumer: offset commit failed, retrying", {{"error", *failed}});
}

void update_gauges(consumer_state& st) {
  double lag = 0;
  if (st.consumer)
    for (const auto& [id, pos] : st.pipeline.positions()) {
      if (pos < 0)
        continue;
      auto high = st.consumer->high_watermark(id.first, id.second);
      if (high && *high > pos)
        lag += static_cast<double>(*high - pos);
    }
  st.metrics.gauges->lag = lag;
  st.metrics.gauges->in_flight = static_cast<double>(st.pipeline.in_flight());
}

// -- rebalancing --------------------------------------------------------------------

bool on_assign(consumer_state& st, const std::vector<kafka::topic_partition>& partitions) {
  st.metrics.rebalances->inc();
  std::vector<partition_id> ids;
  for (const auto& tp : partitions)
    ids.push_back({tp.topic, tp.partition});
  st.pipeline.on_assign(ids);
  log::info("saga consumer: partitions assigned",
            {{"partitions", std::to_string(partitions.size())}});
  return st.pipeline.flow().paused();
}

/// Commits what is done in the revoked partitions and forgets the rest: the next
/// owner reads those messages again and the inbox makes that harmless.
void on_revoke(consumer_state& st, const std::vector<kafka::topic_partition>& partitions,
               bool lost) {
  st.metrics.rebalances->inc();
  std::set<partition_id> revoked;
  for (const auto& tp : partitions)
    revoked.insert({tp.topic, tp.partition});
  if (!lost)
    commit(st, revoked);
  st.pipeline.on_revoke(revoked);
  if (st.dlq_writer)
    st.dlq_writer->forget_unsent([&](const std::string& topic, std::int32_t partition) {
      return revoked.count({topic, partition}) > 0;
    });
  log::info("saga consumer: partitions revoked",
            {{"partitions", std::to_string(partitions.size())}});
}

// -- the clients --------------------------------------------------------------------

/// A refused assign, unassign, pause, resume or close: counted and logged. A pause or
/// resume is tried again by the next flow_control(); a refused assign makes a new
/// client (see restart_if_unassigned()).
void on_client_failed(consumer_state& st, const std::string& op, const std::string& error,
                      const std::string& partitions) {
  if (auto i = st.metrics.client_errors.find(op); i != st.metrics.client_errors.end())
    i->second->inc();
  if (op == "pause" || op == "resume")
    st.pipeline.flow().refused(); // retried on every step: logged once per restart_pause
  auto now = steady::now();
  if (now < st.client_quiet_until)
    return;
  st.client_quiet_until = now + st.cfg.restart_pause;
  log::error("saga consumer: librdkafka refused a call",
             {{"op", op}, {"error", error}, {"partitions", partitions}});
}

std::unique_ptr<kafka::consumer_client> make_consumer(consumer_state& st, std::string& error) {
  kafka::consumer_client_settings s;
  s.brokers = st.cfg.kafka_brokers;
  s.group_id = st.cfg.group_id;
  s.topics = st.cfg.topics;
  s.session_timeout = st.cfg.session_timeout;
  s.extra = st.cfg.consumer_extra;
  kafka::consumer_client::handlers h;
  h.assigned = [&st](const auto& parts) { return on_assign(st, parts); };
  h.revoked = [&st](const auto& parts, bool lost) { on_revoke(st, parts, lost); };
  h.log = [](kafka::log_severity, const std::string& what, const std::string& detail) {
    log::warn("kafka consumer", {{"error", what}, {"detail", detail}});
  };
  h.failed = [&st](const std::string& op, const std::string& error, const std::string& partitions) {
    on_client_failed(st, op, error, partitions);
  };
  return kafka::consumer_client::create(s, std::move(h), error);
}

/// Answers the order actor waiting for a held event's copy; false when it is not one.
bool answer_held(consumer_state& st, std::uint64_t token, bool delivered) {
  auto i = st.held_dlq.find(token);
  if (i == st.held_dlq.end())
    return false;
  i->second.deliver(delivered);
  st.held_dlq.erase(i);
  return true;
}

void on_dlq_delivered(consumer_state& st, std::uint64_t token, bool truncated) {
  bool held = answer_held(st, token, true);
  if (!held && !st.pipeline.dlq_source(token))
    return; // dropped by a revoke or a new client
  st.metrics.dlq->inc();
  if (truncated)
    st.metrics.dlq_truncated->inc();
  if (!held)
    observe_handled(st, st.pipeline.dlq_done(token, steady::now()));
}

/// The DLQ will never take this copy: the message is skipped with an error line that
/// says where it is, so that the partition goes on.
void on_dlq_lost(consumer_state& st, std::uint64_t token, const std::string& error) {
  if (answer_held(st, token, false)) {
    log::error("held saga event not copied to the DLQ", {{"error", error}});
    st.metrics.dlq_lost->inc();
    return;
  }
  const auto* ref = st.pipeline.dlq_source(token);
  if (!ref)
    return;
  log::error("saga message not copied to the DLQ, skipped",
             {{"topic", ref->partition.first},
              {"partition", std::to_string(ref->partition.second)},
              {"offset", std::to_string(ref->offset)},
              {"error", error}});
  st.metrics.dlq_lost->inc();
  observe_handled(st, st.pipeline.dlq_done(token, steady::now()));
}

bool ensure_clients(consumer_state& st) {
  std::string error;
  if (!st.consumer) {
    st.consumer = make_consumer(st, error);
    if (!st.consumer) {
      log::error("saga consumer cannot be created", {{"error", error}});
      return false;
    }
    log::info("saga consumer subscribed", {{"group_id", st.cfg.group_id}});
  }
  if (!st.dlq_writer) {
    kafka::dlq_handlers h;
    h.delivered = [&st](std::uint64_t token, bool truncated) {
      on_dlq_delivered(st, token, truncated);
    };
    h.lost = [&st](std::uint64_t token, const std::string& e) { on_dlq_lost(st, token, e); };
    h.failed = [](const std::string& e) { log::warn("saga consumer: DLQ", {{"error", e}}); };
    st.dlq_writer = kafka::dlq_writer::create(st.cfg.kafka_brokers, st.cfg.dlq_topic,
                                              std::move(h), error);
    if (!st.dlq_writer) {
      log::error("saga DLQ producer cannot be created", {{"error", error}});
      return false;
    }
  }
  return true;
}

// -- poison -------------------------------------------------------------------------

/// A copy of the message with its original headers and the four of CONTRACT §5.
void send_to_dlq(consumer_state& st, saga_dlq_copy copy) {
  const auto& m = copy.message;
  std::string_view traceparent;
  for (const auto& h : m.headers)
    if (h.name == "traceparent")
      traceparent = h.value;
  log::warn("saga message to DLQ", {{"topic", m.topic},
                                    {"partition", std::to_string(m.partition)},
                                    {"offset", std::to_string(m.offset)},
                                    {"reason", copy.reason},
                                    log::trace_field(traceparent)});
  // No handler runs inside write(): reports come through poll() and pump().
  st.pipeline.dlq_sent(st.dlq_writer->write(m, copy.reason), std::move(copy.ref),
                       copy.consumed_at);
}

/// A held event (early_events) whose write the database rejected at replay: its Kafka
/// message is long committed, so the copy is made from the held body, with the topic its
/// type comes on and no partition or offset (-1), plus header `held_in=early_events`.
/// The promise is answered once the DLQ acknowledges it (or refuses it for good).
void copy_held_to_dlq(consumer_actor* self, const std::string& order_id,
                      const std::string& event_id, const std::string& event_type,
                      const std::string& body) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (!ensure_clients(st)) {
    rp.deliver(false);
    return;
  }
  kafka::consumed_message m;
  m.topic =
    event_type.rfind("PAYMENT_", 0) == 0 ? topics::payment_events : topics::inventory_events;
  m.key = order_id;
  m.value = body;
  m.headers = {{"event_type", event_type}, {"held_in", "early_events"}};
  // The held body keeps the traceparent of our span when the event came (events.cpp).
  std::string traceparent;
  auto decoded = decode_incoming(body);
  if (auto* held = std::get_if<incoming_event>(&decoded))
    traceparent = held->traceparent;
  if (!traceparent.empty())
    m.headers.push_back({"traceparent", traceparent});
  log::warn("held saga event to DLQ",
            {{"order_id", order_id}, {"event_id", event_id}, {"reason", rejected_dlq_reason},
             log::trace_field(traceparent)});
  st.metrics.handled[event_status::rejected]->inc();
  st.held_dlq.emplace(st.dlq_writer->write(m, rejected_dlq_reason), std::move(rp));
}

// -- events -------------------------------------------------------------------------

void perform(consumer_actor* self, saga_actions act);
void flow_control(consumer_state& st);

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
  perform(self, st.pipeline.on_reply(order_id, ticket, reply, steady::now()));
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
  auto in = st.pipeline.on_message(std::move(m), steady::now());
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

/// At most one line per interval: a broker outage would otherwise log every step.
void log_consume_error(consumer_state& st, const std::string& error) {
  auto now = steady::now();
  if (now < st.quiet_until)
    return;
  st.quiet_until = now + st.cfg.restart_pause;
  log::warn("saga consumer: consume error", {{"error", error}});
}

/// Pauses all partitions at the in-flight bound, resumes at half of it; a pause or
/// resume librdkafka refused is asked for again on every call (flow_gate).
void flow_control(consumer_state& st) {
  auto& flow = st.pipeline.flow();
  auto a = flow.next(st.pipeline.in_flight());
  if (a == flow_gate::action::none)
    return;
  if (a == flow_gate::action::pause && !flow.paused())
    st.metrics.pauses->inc();
  bool ok = a == flow_gate::action::pause ? st.consumer->pause_all() : st.consumer->resume_all();
  flow.done(a, ok);
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

void poll_messages(consumer_actor* self) {
  auto& st = self->state;
  // Block only while no answer waits in the mailbox: answers free in-flight slots.
  auto wait = self->mailbox().empty() ? st.cfg.poll_wait : std::chrono::milliseconds{0};
  for (std::size_t n = 0; n < st.cfg.poll_batch && !st.pipeline.flow().paused(); ++n) {
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
}

/// Commits what is done and leaves the group; unfinished messages are read again by
/// whoever owns their partitions next.
void close_consumer(consumer_state& st) {
  if (st.consumer) {
    commit(st);
    st.consumer->close();
    st.consumer.reset();
  }
  st.pipeline.on_restart();
  update_gauges(st);
}

/// librdkafka refused the last assign: the group counts those partitions as ours while
/// nothing fetches them, so this client leaves and the next step makes a new one, which
/// joins again (its partitions are read from their committed offsets).
void restart_if_unassigned(consumer_state& st) {
  if (!st.consumer || st.consumer->assignment_ok())
    return;
  log::error("saga consumer: partitions not assigned, making a new client", {});
  if (st.dlq_writer)
    st.dlq_writer->forget_unsent([](const std::string&, std::int32_t) { return true; });
  close_consumer(st);
}

void shut_down(consumer_state& st) {
  if (st.dlq_writer) {
    st.dlq_writer->flush(st.cfg.shutdown_grace);
    st.dlq_writer.reset();
  }
  for (auto& [token, rp] : st.held_dlq)
    rp.deliver(false); // the copy may still arrive: the next replay makes another
  st.held_dlq.clear();
  close_consumer(st);
}

void consume_step(consumer_actor* self) {
  auto& st = self->state;
  if (!ensure_clients(st)) {
    schedule_tick(self, st.cfg.restart_pause);
    return;
  }
  st.dlq_writer->poll();
  st.dlq_writer->pump();
  poll_messages(self);
  restart_if_unassigned(st);
  if (!st.consumer) {
    schedule_tick(self, st.cfg.restart_pause);
    return;
  }
  if (steady::now() >= st.next_commit) {
    commit(st);
    update_gauges(st);
    st.next_commit = steady::now() + st.cfg.commit_interval;
  }
  schedule_tick(self, st.pipeline.flow().paused() ? st.cfg.poll_wait : std::chrono::milliseconds{0});
}

caf::behavior kafka_consumer(consumer_actor* self, consumer_settings cfg, caf::actor registry,
                             saga_metrics metrics) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.registry = std::move(registry);
  st.metrics = std::move(metrics);
  st.pipeline = saga_pipeline{
    {st.cfg.max_in_flight, st.cfg.max_dispatched, {st.cfg.retry_base, st.cfg.retry_max}}};
  self->system().registry().put(dlq_atom::value, caf::actor_cast<caf::strong_actor_ptr>(self));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->system().registry().erase(dlq_atom::value);
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
    [self](dlq_atom, const std::string& order_id, const std::string& event_id,
           const std::string& event_type, const std::string& body) {
      copy_held_to_dlq(self, order_id, event_id, event_type, body);
    },
  };
}

} // namespace

caf::actor spawn_kafka_consumer(caf::actor_system& sys, const consumer_settings& settings,
                                caf::actor registry, metrics_registry& metrics) {
  return sys.spawn<caf::detached>(kafka_consumer, settings, std::move(registry),
                                  register_saga_metrics(metrics));
}


} // namespace flashsale
