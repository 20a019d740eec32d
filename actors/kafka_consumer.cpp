#include "actors/kafka_consumer.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "kafka/consumer_client.hpp"
#include "kafka/dlq_writer.hpp"
#include "messages/flow_gate.hpp"
#include "messages/metrics.hpp"
#include "messages/offset_tracker.hpp"
#include "messages/order_chains.hpp"

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

/// dlq_reason of an event whose write the database rejected.
constexpr const char* rejected_dlq_reason =
  "rejected_by_database: the database refused the event's write (a value it does not accept)";

// -- metrics ------------------------------------------------------------------------

struct consumer_gauges {
  std::atomic<double> in_flight{0};
  std::atomic<double> lag{0};
};

struct consumer_metrics {
  metrics_registry* registry = nullptr;
  std::unordered_map<std::string, counter*> consumed; // per known event type
  std::map<event_status, counter*> handled;
  counter* unknown_type = nullptr;
  counter* dlq = nullptr;
  counter* dlq_truncated = nullptr;
  counter* dlq_lost = nullptr;
  counter* retries = nullptr;
  counter* rebalances = nullptr;
  counter* pauses = nullptr;
  std::map<std::string, counter*> client_errors; // by librdkafka call
  histogram* handle_seconds = nullptr;
  std::shared_ptr<consumer_gauges> gauges = std::make_shared<consumer_gauges>();

  /// The event type is known (a bounded set), so it can be a label.
  counter& consumed_of(const std::string& type) {
    auto i = consumed.find(type);
    if (i != consumed.end())
      return *i->second;
    auto& c = registry->get_counter("saga_events_consumed_total",
                                    "Saga events consumed, by event type", {{"event_type", type}});
    consumed.emplace(type, &c);
    return c;
  }
};

consumer_metrics register_metrics(metrics_registry& reg) {
  consumer_metrics m;
  m.registry = &reg;
  const std::pair<event_status, const char*> outcomes[] = {
    {event_status::applied, "applied"},     {event_status::duplicate, "duplicate"},
    {event_status::ignored, "ignored"},     {event_status::payment_rejected, "payment_rejected"},
    {event_status::not_found, "not_found"},   {event_status::rejected, "rejected"},
    {event_status::held, "held"},
  };
  for (const auto& [status, label] : outcomes)
    m.handled[status] =
      &reg.get_counter("saga_events_handled_total",
                       "Saga events handled by their order, by outcome", {{"outcome", label}});
  m.unknown_type = &reg.get_counter("saga_events_unknown_type_total",
                                    "Saga messages skipped for an unknown event_type");
  m.dlq = &reg.get_counter("saga_events_dlq_total", "Poison saga messages copied to order.v1.dlq");
  m.dlq_truncated = &reg.get_counter(
    "saga_events_dlq_truncated_total",
    "Poison saga messages too large for order.v1.dlq, copied with a truncated value");
  m.dlq_lost = &reg.get_counter(
    "saga_events_dlq_lost_total",
    "Poison saga messages order.v1.dlq refused for good: logged and skipped, not copied");
  m.retries = &reg.get_counter("saga_event_retries_total",
                               "Saga events delivered to their order again after a failure");
  m.rebalances = &reg.get_counter("saga_consumer_rebalances_total",
                                  "Partition assignments and revocations seen");
  m.pauses = &reg.get_counter("saga_consumer_pauses_total",
                              "Times consumption paused: too many saga events in flight");
  for (const char* op : {"assign", "unassign", "pause", "resume", "close"})
    m.client_errors[op] =
      &reg.get_counter("saga_consumer_client_errors_total",
                       "librdkafka calls of the saga consumer that failed, by call", {{"op", op}});
  m.handle_seconds =
    &reg.get_histogram("saga_event_handle_seconds", "Saga event consumed to handled (durable)");
  auto g = m.gauges;
  reg.add_gauge("saga_consumer_in_flight", "Saga messages consumed and not yet handled",
                [g] { return g->in_flight.load(); });
  reg.add_gauge("saga_consumer_lag", "Saga messages in Kafka not yet handled (approximate)",
                [g] { return g->lag.load(); });
  return m;
}

// -- state --------------------------------------------------------------------------

struct event_work {
  offset_ref ref;
  steady::time_point consumed_at;
  incoming_event event;
  int attempts = 0; // failed deliveries to the registry
  /// The message as consumed: copied to the DLQ when the database rejects the event.
  kafka::consumed_message source;
};

struct consumer_state {
  consumer_settings cfg;
  caf::actor registry;
  consumer_metrics metrics;
  std::unique_ptr<kafka::consumer_client> consumer;
  std::unique_ptr<kafka::dlq_writer> dlq_writer;

  offset_tracker offsets;
  flow_gate flow;         // pauses at cfg.max_in_flight
  std::uint64_t tick = 0; // the one consume_tick that counts; older ones are ignored
  steady::time_point next_commit{};
  steady::time_point quiet_until{}; // no consume error is logged before this
  steady::time_point client_quiet_until{}; // no refused call is logged before this

  /// Per order: its events in consumption order; the front one is at the registry
  /// (or waiting to be retried), the others wait for it.
  order_chains<event_work> chains;
  dispatch_slots slots; // requests at the registry
  /// DLQ copies in flight, by the writer's token.
  std::unordered_map<std::uint64_t, std::pair<offset_ref, steady::time_point>> dlq;
  /// DLQ copies of held events (dlq_atom) in flight, by token: answered when acknowledged.
  std::unordered_map<std::uint64_t, caf::response_promise> held_dlq;

  static inline const char* name = "kafka_consumer";
};

using consumer_actor = caf::stateful_actor<consumer_state>;

void mark_done(consumer_state& st, const offset_ref& ref, steady::time_point consumed_at) {
  if (st.offsets.done(ref))
    st.metrics.handle_seconds->observe(
      std::chrono::duration<double>(steady::now() - consumed_at).count());
}

/// Commits the handled prefix of every partition `wanted` accepts; logs failures (the
/// next round tries again).
template <class Wanted>
void commit_where(consumer_state& st, Wanted wanted) {
  if (!st.consumer)
    return;
  std::vector<kafka::topic_partition> list;
  for (const auto& [id, pos] : st.offsets.committable(wanted))
    list.push_back({id.first, id.second, pos});
  if (list.empty())
    return;
  auto failed = st.consumer->commit(list);
  for (const auto& tp : list)
    if (tp.ok)
      st.offsets.committed({tp.topic, tp.partition}, tp.offset);
  if (failed)
    log::warn("saga consumer: offset commit failed, retrying", {{"error", *failed}});
}

void commit_all(consumer_state& st) {
  commit_where(st, [](const partition_id&) { return true; });
}

void update_gauges(consumer_state& st) {
  double lag = 0;
  if (st.consumer)
    for (const auto& [id, pos] : st.offsets.positions()) {
      if (pos < 0)
        continue;
      auto high = st.consumer->high_watermark(id.first, id.second);
      if (high && *high > pos)
        lag += static_cast<double>(*high - pos);
    }
  st.metrics.gauges->lag = lag;
  st.metrics.gauges->in_flight = static_cast<double>(st.offsets.in_flight());
}

// -- rebalancing --------------------------------------------------------------------

bool on_assign(consumer_state& st, const std::vector<kafka::topic_partition>& partitions) {
  st.metrics.rebalances->inc();
  for (const auto& tp : partitions)
    st.offsets.assign({tp.topic, tp.partition});
  log::info("saga consumer: partitions assigned",
            {{"partitions", std::to_string(partitions.size())}});
  return st.flow.paused();
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
    commit_where(st, [&](const partition_id& id) { return revoked.count(id) > 0; });
  for (const auto& id : revoked)
    st.offsets.revoke(id);
  // Waiting events of revoked partitions go; a front one may be at the registry and is
  // dropped when its answer comes.
  st.chains.drop_waiting_if(
    [&](const event_work& w) { return revoked.count(w.ref.partition) > 0; });
  if (st.dlq_writer)
    st.dlq_writer->forget_unsent([&](const std::string& topic, std::int32_t partition) {
      return revoked.count({topic, partition}) > 0;
    });
  for (auto i = st.dlq.begin(); i != st.dlq.end();)
    i = st.offsets.is_current(i->second.first) ? std::next(i) : st.dlq.erase(i);
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
    st.flow.refused(); // retried on every step: logged once per restart_pause
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
  if (answer_held(st, token, true)) {
    st.metrics.dlq->inc();
    if (truncated)
      st.metrics.dlq_truncated->inc();
    return;
  }
  auto i = st.dlq.find(token);
  if (i == st.dlq.end())
    return;
  st.metrics.dlq->inc();
  if (truncated)
    st.metrics.dlq_truncated->inc();
  mark_done(st, i->second.first, i->second.second);
  st.dlq.erase(i);
}

/// The DLQ will never take this copy: the message is skipped with an error line that
/// says where it is, so that the partition goes on.
void on_dlq_lost(consumer_state& st, std::uint64_t token, const std::string& error) {
  if (answer_held(st, token, false)) {
    log::error("held saga event not copied to the DLQ", {{"error", error}});
    st.metrics.dlq_lost->inc();
    return;
  }
  auto i = st.dlq.find(token);
  if (i == st.dlq.end())
    return;
  const auto& ref = i->second.first;
  log::error("saga message not copied to the DLQ, skipped",
             {{"topic", ref.partition.first},
              {"partition", std::to_string(ref.partition.second)},
              {"offset", std::to_string(ref.offset)},
              {"error", error}});
  st.metrics.dlq_lost->inc();
  mark_done(st, i->second.first, i->second.second);
  st.dlq.erase(i);
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
void send_to_dlq(consumer_state& st, const kafka::consumed_message& m, offset_ref ref,
                 steady::time_point consumed_at, const std::string& reason) {
  log::warn("saga message to DLQ", {{"topic", m.topic},
                                    {"partition", std::to_string(m.partition)},
                                    {"offset", std::to_string(m.offset)},
                                    {"reason", reason}});
  // No handler runs inside write(): reports come through poll() and pump().
  st.dlq.emplace(st.dlq_writer->write(m, reason), std::make_pair(std::move(ref), consumed_at));
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
  log::warn("held saga event to DLQ",
            {{"order_id", order_id}, {"event_id", event_id}, {"reason", rejected_dlq_reason}});
  st.metrics.handled[event_status::rejected]->inc();
  st.held_dlq.emplace(st.dlq_writer->write(m, rejected_dlq_reason), std::move(rp));
}

// -- events -------------------------------------------------------------------------

void dispatch(consumer_actor* self, const std::string& order_id);
void pump_waiting(consumer_actor* self);
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

std::chrono::milliseconds backoff_for(const consumer_settings& cfg, int attempts) {
  auto ms = cfg.retry_base.count() << std::min(attempts - 1, 16);
  return std::chrono::milliseconds{std::min<std::int64_t>(ms, cfg.retry_max.count())};
}

/// The answer for the front event of `order_id`'s chain.
void on_handled(consumer_actor* self, const std::string& order_id, event_reply reply) {
  auto& st = self->state;
  auto* w = st.chains.front(order_id);
  if (!w)
    return;
  bool current = st.offsets.is_current(w->ref);
  if (reply.status == event_status::failed && current) {
    ++w->attempts;
    st.metrics.retries->inc();
    if (w->attempts % retry_log_every == 1)
      log::warn("saga event not applied, retrying", {{"order_id", order_id},
                                                     {"event_id", w->event.event_id},
                                                     {"event_type", w->event.event_type},
                                                     {"attempt", std::to_string(w->attempts)}});
    self->delayed_send(self, backoff_for(st.cfg, w->attempts), retry_event_atom::value, order_id);
    return;
  }
  if (reply.status == event_status::rejected && current) {
    // A write the database refuses whatever the retries (SQLSTATE class 22/23), isolated
    // in its batch: the event goes to the DLQ (CONTRACT §5), its offset is done once the
    // copy is acknowledged, and the order's next events go ahead.
    st.metrics.handled[reply.status]->inc();
    auto taken = st.chains.take_front(order_id);
    send_to_dlq(st, taken.source, std::move(taken.ref), taken.consumed_at, rejected_dlq_reason);
    dispatch(self, order_id);
    return;
  }
  if (reply.status != event_status::failed) {
    st.metrics.handled[reply.status]->inc();
    mark_done(st, w->ref, w->consumed_at);
  }
  st.chains.take_front(order_id);
  dispatch(self, order_id);
}

/// Sends the front event of the order's chain to the registry, dropping events whose
/// partition was revoked; with max_dispatched requests out, the order waits its turn.
void dispatch(consumer_actor* self, const std::string& order_id) {
  auto& st = self->state;
  auto* front = st.chains.ready_front(
    order_id, [&st](const event_work& w) { return !st.offsets.is_current(w.ref); });
  if (!front || !st.slots.acquire(order_id))
    return;
  auto answered = [self, order_id](event_reply r) {
    auto& st = self->state;
    st.slots.release();
    on_handled(self, order_id, r);
    pump_waiting(self);
    if (st.flow.paused() && st.consumer) { // enough answers in: consume again right away
      flow_control(st);
      if (!st.flow.paused())
        schedule_tick(self, std::chrono::milliseconds{0});
    }
  };
  self->request(st.registry, st.cfg.request_timeout, event_atom::value, front->event)
    .then([answered](event_reply& r) { answered(r); },
          [answered](caf::error&) {
            answered(event_reply{event_status::failed, {}});
          });
}

void pump_waiting(consumer_actor* self) {
  while (auto order_id = self->state.slots.next_waiting())
    dispatch(self, *order_id);
}

/// Appends to the order's chain; an event that finds the chain empty goes out at once.
void enqueue(consumer_actor* self, event_work w) {
  auto order_id = w.event.order_id;
  if (self->state.chains.append(order_id, std::move(w)))
    dispatch(self, order_id);
}

void handle_message(consumer_actor* self, const kafka::consumed_message& m) {
  auto& st = self->state;
  auto ref = st.offsets.consumed({m.topic, m.partition}, m.offset);
  if (!ref)
    return; // not (or no longer) ours, or already pending
  auto consumed_at = steady::now();
  auto decoded = decode_incoming(std::string_view{m.value});
  if (auto* bad = std::get_if<decode_error>(&decoded)) {
    send_to_dlq(st, m, std::move(*ref), consumed_at, bad->detail);
    return;
  }
  auto& ev = std::get<incoming_event>(decoded);
  if (!is_known_incoming_type(ev.event_type)) {
    st.metrics.unknown_type->inc();
    log::debug("saga event of unknown type skipped",
               {{"order_id", ev.order_id}, {"event_type", ev.event_type}});
    mark_done(st, *ref, consumed_at);
    return;
  }
  st.metrics.consumed_of(ev.event_type).inc();
  enqueue(self, {std::move(*ref), consumed_at, std::move(ev), 0, m});
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
  auto a = st.flow.next(st.offsets.in_flight());
  if (a == flow_gate::action::none)
    return;
  if (a == flow_gate::action::pause && !st.flow.paused())
    st.metrics.pauses->inc();
  bool ok = a == flow_gate::action::pause ? st.consumer->pause_all() : st.consumer->resume_all();
  st.flow.done(a, ok);
}

/// Handles what one consume() gave; false when the step should stop consuming.
bool take(consumer_actor* self, const kafka::consume_result& r) {
  switch (r.what) {
    case kafka::consume_result::message:
      handle_message(self, r.msg);
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
  for (std::size_t n = 0; n < st.cfg.poll_batch && !st.flow.paused(); ++n) {
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
  if (st.flow.paused())
    take(self, st.consumer->consume(std::chrono::milliseconds{0}));
  flow_control(st);
}

/// Commits what is done and leaves the group; unfinished messages are read again by
/// whoever owns their partitions next.
void close_consumer(consumer_state& st) {
  if (st.consumer) {
    commit_all(st);
    st.consumer->close();
    st.consumer.reset();
  }
  st.chains.clear();
  st.slots.clear_waiting();
  st.offsets.clear();
  st.dlq.clear();
  st.flow.reset();
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
    commit_all(st);
    update_gauges(st);
    st.next_commit = steady::now() + st.cfg.commit_interval;
  }
  schedule_tick(self, st.flow.paused() ? st.cfg.poll_wait : std::chrono::milliseconds{0});
}

caf::behavior kafka_consumer(consumer_actor* self, consumer_settings cfg, caf::actor registry,
                             consumer_metrics metrics) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.registry = std::move(registry);
  st.metrics = std::move(metrics);
  st.slots.set_limit(st.cfg.max_dispatched);
  st.flow = flow_gate{st.cfg.max_in_flight};
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
    [self](retry_event_atom, const std::string& order_id) { dispatch(self, order_id); },
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
                                  register_metrics(metrics));
}


} // namespace flashsale
