#include "actors/kafka_consumer.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "messages/kafka_producer.hpp"
#include "messages/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <set>
#include <unordered_map>
#include <utility>

namespace flashsale {

namespace {

using consume_tick_atom = caf::atom_constant<caf::atom("fs_ctick")>;
using retry_event_atom = caf::atom_constant<caf::atom("fs_cretry")>;
using unpark_atom = caf::atom_constant<caf::atom("fs_cunpark")>;

using steady = std::chrono::steady_clock;

/// A failed event is logged on its first retry and then every this many.
constexpr int retry_log_every = 20;

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
  counter* retries = nullptr;
  counter* rebalances = nullptr;
  counter* parked = nullptr;
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
    {event_status::not_found, "not_found"}, {event_status::held, "held"},
  };
  for (const auto& [status, label] : outcomes)
    m.handled[status] =
      &reg.get_counter("saga_events_handled_total",
                       "Saga events handled by their order, by outcome", {{"outcome", label}});
  m.unknown_type = &reg.get_counter("saga_events_unknown_type_total",
                                    "Saga messages skipped for an unknown event_type");
  m.dlq = &reg.get_counter("saga_events_dlq_total", "Poison saga messages copied to order.v1.dlq");
  m.retries = &reg.get_counter("saga_event_retries_total",
                               "Saga events delivered to their order again after a failure");
  m.rebalances = &reg.get_counter("saga_consumer_rebalances_total",
                                  "Partition assignments and revocations seen");
  m.parked = &reg.get_counter(
    "saga_events_parked_total",
    "Saga events that arrived before the event they follow (on another topic) and waited");
  m.handle_seconds =
    &reg.get_histogram("saga_event_handle_seconds", "Saga event consumed to handled (durable)");
  auto g = m.gauges;
  reg.add_gauge("saga_consumer_in_flight", "Saga messages consumed and not yet handled",
                [g] { return g->in_flight.load(); });
  reg.add_gauge("saga_consumer_lag", "Saga messages in Kafka not yet handled (approximate)",
                [g] { return g->lag.load(); });
  return m;
}

// -- offsets ------------------------------------------------------------------------

using partition_id = std::pair<std::string, std::int32_t>;

/// What is known of one assigned partition. Offsets are handled out of order; the
/// commit position is the lowest offset still pending, so a restart resumes there.
struct partition_track {
  std::uint64_t generation = 0; // changes with every assignment
  std::set<std::int64_t> pending;
  std::int64_t next = -1;      // one past the highest offset consumed
  std::int64_t committed = -1; // the last position committed

  std::int64_t position() const { return pending.empty() ? next : *pending.begin(); }
};

/// Where a consumed message came from; stale once its partition is revoked.
struct message_ref {
  partition_id partition;
  std::int64_t offset = 0;
  std::uint64_t generation = 0;
  steady::time_point consumed_at;
};

struct event_work {
  message_ref ref;
  incoming_event event;
  int attempts = 0; // failed deliveries to the registry
  int parks = 0;    // times it came too early
};

struct dlq_work {
  message_ref ref;
  std::string key;
  std::string value;
  std::vector<kafka::header> headers;
  bool queued = false; // produced and waiting for its delivery report
};

struct consumer_state;
using consumer_actor = caf::stateful_actor<consumer_state>;

/// librdkafka calls these from inside consume()/close(), on the actor's own thread.
struct client_callbacks : RdKafka::RebalanceCb, RdKafka::EventCb {
  consumer_state* st = nullptr;
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;
  void event_cb(RdKafka::Event& e) override;
};

struct consumer_state {
  consumer_settings cfg;
  caf::actor registry;
  consumer_metrics metrics;
  client_callbacks callbacks;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::unique_ptr<kafka::producer> dlq_producer;

  std::map<partition_id, partition_track> partitions;
  std::uint64_t next_generation = 1;
  std::size_t in_flight = 0; // pending offsets over all partitions
  bool paused = false;
  std::uint64_t tick = 0; // the one consume_tick that counts; older ones are ignored
  steady::time_point next_commit{};
  steady::time_point quiet_until{}; // no consume error is logged before this

  /// Per order: its events in consumption order; the front one is at the registry
  /// (or waiting to be retried), the others wait for it.
  std::unordered_map<std::string, std::deque<event_work>> chains;
  /// Events that came too early, out of their chain until their wait is over.
  std::unordered_map<std::uint64_t, event_work> parked;
  std::size_t dispatched = 0;      // requests at the registry
  std::deque<std::string> waiting; // orders whose front waits for a dispatch slot
  std::uint64_t next_park_token = 1;
  std::unordered_map<std::uint64_t, dlq_work> dlq;
  std::uint64_t next_dlq_token = 1;

  static inline const char* name = "kafka_consumer";
};

bool is_current(const consumer_state& st, const message_ref& ref) {
  auto i = st.partitions.find(ref.partition);
  return i != st.partitions.end() && i->second.generation == ref.generation;
}

void mark_done(consumer_state& st, const message_ref& ref) {
  auto i = st.partitions.find(ref.partition);
  if (i == st.partitions.end() || i->second.generation != ref.generation)
    return; // revoked meanwhile: the new owner reads it again
  if (i->second.pending.erase(ref.offset) > 0) {
    --st.in_flight;
    st.metrics.handle_seconds->observe(
      std::chrono::duration<double>(steady::now() - ref.consumed_at).count());
  }
}

using offset_list = std::vector<RdKafka::TopicPartition*>;

/// Commits the handled prefix of every partition `wanted` accepts; logs failures (the
/// next round tries again).
template <class Wanted>
void commit_where(consumer_state& st, Wanted wanted) {
  if (!st.consumer)
    return;
  offset_list offsets;
  for (const auto& [id, track] : st.partitions) {
    auto pos = track.position();
    if (wanted(id) && pos > track.committed)
      offsets.push_back(RdKafka::TopicPartition::create(id.first, id.second, pos));
  }
  if (offsets.empty())
    return;
  auto err = st.consumer->commitSync(offsets);
  for (const auto* tp : offsets) {
    auto i = st.partitions.find({tp->topic(), tp->partition()});
    if (i != st.partitions.end() && err == RdKafka::ERR_NO_ERROR
        && tp->err() == RdKafka::ERR_NO_ERROR)
      i->second.committed = tp->offset();
  }
  if (err != RdKafka::ERR_NO_ERROR)
    log::warn("saga consumer: offset commit failed, retrying", {{"error", RdKafka::err2str(err)}});
  RdKafka::TopicPartition::destroy(offsets);
}

void commit_all(consumer_state& st) {
  commit_where(st, [](const partition_id&) { return true; });
}

void update_gauges(consumer_state& st) {
  double lag = 0;
  for (const auto& [id, track] : st.partitions) {
    std::int64_t low = RdKafka::Topic::OFFSET_INVALID;
    std::int64_t high = RdKafka::Topic::OFFSET_INVALID;
    auto pos = track.position();
    if (pos >= 0
        && st.consumer->get_watermark_offsets(id.first, id.second, &low, &high)
             == RdKafka::ERR_NO_ERROR
        && high > pos)
      lag += static_cast<double>(high - pos);
  }
  st.metrics.gauges->lag = lag;
  st.metrics.gauges->in_flight = static_cast<double>(st.in_flight);
}

// -- rebalancing --------------------------------------------------------------------

void on_assign(consumer_state& st, RdKafka::KafkaConsumer* consumer,
               std::vector<RdKafka::TopicPartition*>& partitions) {
  st.metrics.rebalances->inc();
  for (auto* tp : partitions) {
    partition_track track;
    track.generation = st.next_generation++;
    st.partitions[{tp->topic(), tp->partition()}] = std::move(track);
  }
  consumer->assign(partitions);
  if (st.paused)
    consumer->pause(partitions);
  log::info("saga consumer: partitions assigned",
            {{"partitions", std::to_string(partitions.size())}});
}

/// Commits what is done in the revoked partitions and forgets the rest: the next
/// owner reads those messages again and the inbox makes that harmless.
void on_revoke(consumer_state& st, RdKafka::KafkaConsumer* consumer,
               std::vector<RdKafka::TopicPartition*>& partitions) {
  st.metrics.rebalances->inc();
  std::set<partition_id> revoked;
  for (const auto* tp : partitions)
    revoked.insert({tp->topic(), tp->partition()});
  if (!consumer->assignment_lost())
    commit_where(st, [&](const partition_id& id) { return revoked.count(id) > 0; });
  for (const auto& id : revoked) {
    auto i = st.partitions.find(id);
    if (i == st.partitions.end())
      continue;
    st.in_flight -= i->second.pending.size();
    st.partitions.erase(i);
  }
  // Waiting events of revoked partitions go; a front one may be at the registry and is
  // dropped when its answer comes.
  for (auto i = st.chains.begin(); i != st.chains.end();) {
    auto& chain = i->second;
    if (chain.size() > 1)
      chain.erase(
        std::remove_if(chain.begin() + 1, chain.end(),
                       [&](const event_work& w) { return revoked.count(w.ref.partition) > 0; }),
        chain.end());
    ++i;
  }
  for (auto i = st.parked.begin(); i != st.parked.end();)
    i = revoked.count(i->second.ref.partition) ? st.parked.erase(i) : std::next(i);
  for (auto i = st.dlq.begin(); i != st.dlq.end();)
    i = (!i->second.queued && revoked.count(i->second.ref.partition)) ? st.dlq.erase(i)
                                                                      : std::next(i);
  consumer->unassign();
  log::info("saga consumer: partitions revoked",
            {{"partitions", std::to_string(partitions.size())}});
}

void client_callbacks::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                    std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    on_assign(*st, consumer, partitions);
  } else {
    on_revoke(*st, consumer, partitions);
  }
}

void client_callbacks::event_cb(RdKafka::Event& e) {
  switch (e.type()) {
    case RdKafka::Event::EVENT_ERROR:
      log::warn("kafka consumer", {{"error", RdKafka::err2str(e.err())}, {"detail", e.str()}});
      break;
    case RdKafka::Event::EVENT_LOG:
      // A failed connection comes as an error event too: log it once.
      if (e.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING && e.fac() != "FAIL")
        log::warn("kafka consumer", {{"facility", e.fac()}, {"detail", e.str()}});
      break;
    default:
      break;
  }
}

// -- the clients --------------------------------------------------------------------

std::unique_ptr<RdKafka::KafkaConsumer> make_consumer(consumer_state& st, std::string& error) {
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  std::map<std::string, std::string> props{
    {"bootstrap.servers", st.cfg.kafka_brokers},
    {"group.id", st.cfg.group_id},
    {"client.id", "flashsale-order-consumer"},
    // Offsets are ours to commit, only once the work before them is durable.
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"auto.offset.reset", "earliest"},
    {"session.timeout.ms", std::to_string(st.cfg.session_timeout.count())},
    {"reconnect.backoff.max.ms", "1000"},
    {"socket.nagle.disable", "true"},
  };
  for (const auto& [k, v] : st.cfg.consumer_extra)
    props[k] = v;
  for (const auto& [k, v] : props)
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK)
      return nullptr;
  st.callbacks.st = &st;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(&st.callbacks), error)
        != RdKafka::Conf::CONF_OK
      || conf->set("event_cb", static_cast<RdKafka::EventCb*>(&st.callbacks), error)
           != RdKafka::Conf::CONF_OK)
    return nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> c{RdKafka::KafkaConsumer::create(conf.get(), error)};
  if (!c)
    return nullptr;
  auto err = c->subscribe(st.cfg.topics);
  if (err != RdKafka::ERR_NO_ERROR) {
    error = RdKafka::err2str(err);
    return nullptr;
  }
  return c;
}

void on_dlq_report(consumer_state& st, const kafka::delivery_report& r) {
  auto i = st.dlq.find(r.token);
  if (i == st.dlq.end())
    return;
  if (r.ok) {
    st.metrics.dlq->inc();
    mark_done(st, i->second.ref);
    st.dlq.erase(i);
    return;
  }
  log::warn("saga consumer: DLQ copy not delivered, retrying", {{"error", r.error}});
  i->second.queued = false;
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
  if (!st.dlq_producer) {
    kafka::producer_settings ps;
    ps.brokers = st.cfg.kafka_brokers;
    ps.client_id = "flashsale-order-dlq";
    st.dlq_producer = kafka::producer::create(
      ps, [&st](const kafka::delivery_report& r) { on_dlq_report(st, r); },
      [](kafka::log_severity sev, const std::string& fac, const std::string& text) {
        if (sev == kafka::log_severity::error || sev == kafka::log_severity::warning)
          log::warn("kafka dlq producer", {{"facility", fac}, {"detail", text}});
      },
      error);
    if (!st.dlq_producer) {
      log::error("saga DLQ producer cannot be created", {{"error", error}});
      return false;
    }
  }
  return true;
}

// -- poison -------------------------------------------------------------------------

void produce_dlq(consumer_state& st) {
  for (auto& [token, w] : st.dlq) {
    if (w.queued)
      continue;
    auto refused = st.dlq_producer->produce(st.cfg.dlq_topic, w.key, w.value, w.headers, token);
    if (refused) {
      log::warn("saga consumer: DLQ copy refused, retrying", {{"error", refused->error}});
      continue;
    }
    w.queued = true;
  }
}

/// A copy of the message with its original headers and the four of CONTRACT §5.
void send_to_dlq(consumer_state& st, RdKafka::Message& m, message_ref ref,
                 const std::string& reason) {
  dlq_work w;
  if (m.key())
    w.key = *m.key();
  w.value.assign(static_cast<const char*>(m.payload()), m.len());
  if (auto* h = m.headers())
    for (const auto& hd : h->get_all())
      w.headers.push_back(
        {hd.key(), std::string{static_cast<const char*>(hd.value()), hd.value_size()}});
  w.headers.push_back({"dlq_reason", reason});
  w.headers.push_back({"source_topic", m.topic_name()});
  w.headers.push_back({"source_partition", std::to_string(m.partition())});
  w.headers.push_back({"source_offset", std::to_string(m.offset())});
  w.ref = std::move(ref);
  log::warn("saga message to DLQ", {{"topic", m.topic_name()},
                                    {"partition", std::to_string(m.partition())},
                                    {"offset", std::to_string(m.offset())},
                                    {"reason", reason}});
  st.dlq.emplace(st.next_dlq_token++, std::move(w));
  produce_dlq(st);
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

/// Whether `ev` was ignored only because the event it follows has not been applied
/// yet. Inventory and payment events travel on different topics, which Kafka does not
/// order against each other: a PAYMENT_INTENT_CREATED may overtake the
/// INVENTORY_RESERVED it follows, and a payment answer may overtake its intent.
bool came_too_early(const incoming_event& ev, order_status current) {
  auto trigger = trigger_for(ev.event_type);
  if (!trigger)
    return false;
  switch (*trigger) {
    case order_trigger::payment_intent_created:
      return current == order_status::created;
    case order_trigger::payment_succeeded:
    case order_trigger::payment_failed:
      return current == order_status::created || current == order_status::reserved;
    default:
      return false;
  }
}

/// Takes the front event out of its chain for a while, so the events behind it (the
/// one it waits for among them) go ahead. Its offset stays pending meanwhile.
void park_front(consumer_actor* self, std::deque<event_work>& chain) {
  auto& st = self->state;
  auto w = std::move(chain.front());
  chain.pop_front();
  ++w.parks;
  st.metrics.parked->inc();
  log::debug("saga event came too early, waiting", {{"order_id", w.event.order_id},
                                                    {"event_type", w.event.event_type},
                                                    {"wait", std::to_string(w.parks)}});
  auto token = st.next_park_token++;
  st.parked.emplace(token, std::move(w));
  self->delayed_send(self, st.cfg.park_wait, unpark_atom::value, token);
}

void enqueue(consumer_actor* self, event_work w);

void unpark(consumer_actor* self, std::uint64_t token) {
  auto& st = self->state;
  auto i = st.parked.find(token);
  if (i == st.parked.end())
    return;
  auto w = std::move(i->second);
  st.parked.erase(i);
  if (is_current(st, w.ref))
    enqueue(self, std::move(w));
}

/// The answer for the front event of `order_id`'s chain.
void on_handled(consumer_actor* self, const std::string& order_id, event_reply reply) {
  auto& st = self->state;
  auto i = st.chains.find(order_id);
  if (i == st.chains.end() || i->second.empty())
    return;
  auto& w = i->second.front();
  bool current = is_current(st, w.ref);
  if (reply.status == event_status::failed && current) {
    ++w.attempts;
    st.metrics.retries->inc();
    if (w.attempts % retry_log_every == 1)
      log::warn("saga event not applied, retrying", {{"order_id", order_id},
                                                     {"event_id", w.event.event_id},
                                                     {"event_type", w.event.event_type},
                                                     {"attempt", std::to_string(w.attempts)}});
    self->delayed_send(self, backoff_for(st.cfg, w.attempts), retry_event_atom::value, order_id);
    return;
  }
  if (reply.status == event_status::ignored && current && w.parks < st.cfg.max_parks
      && came_too_early(w.event, reply.current)) {
    park_front(self, i->second);
    dispatch(self, order_id);
    return;
  }
  if (reply.status != event_status::failed) {
    st.metrics.handled[reply.status]->inc();
    mark_done(st, w.ref);
  }
  i->second.pop_front();
  dispatch(self, order_id);
}

/// Sends the front event of the order's chain to the registry, dropping events whose
/// partition was revoked; with max_dispatched requests out, the order waits its turn.
void dispatch(consumer_actor* self, const std::string& order_id) {
  auto& st = self->state;
  auto i = st.chains.find(order_id);
  if (i == st.chains.end())
    return;
  auto& chain = i->second;
  while (!chain.empty() && !is_current(st, chain.front().ref))
    chain.pop_front();
  if (chain.empty()) {
    st.chains.erase(i);
    return;
  }
  if (st.dispatched >= st.cfg.max_dispatched) {
    st.waiting.push_back(order_id);
    return;
  }
  ++st.dispatched;
  auto answered = [self, order_id](event_reply r) {
    auto& st = self->state;
    --st.dispatched;
    on_handled(self, order_id, r);
    pump_waiting(self);
    if (st.paused && st.consumer) { // enough answers in: consume again right away
      flow_control(st);
      if (!st.paused)
        schedule_tick(self, std::chrono::milliseconds{0});
    }
  };
  self->request(st.registry, st.cfg.request_timeout, event_atom::value, chain.front().event)
    .then([answered](event_reply& r) { answered(r); },
          [answered](caf::error&) {
            answered(event_reply{event_status::failed, {}});
          });
}

void pump_waiting(consumer_actor* self) {
  auto& st = self->state;
  while (st.dispatched < st.cfg.max_dispatched && !st.waiting.empty()) {
    auto order_id = std::move(st.waiting.front());
    st.waiting.pop_front();
    dispatch(self, order_id);
  }
}

/// Appends to the order's chain; an event that finds the chain empty goes out at once.
void enqueue(consumer_actor* self, event_work w) {
  auto order_id = w.event.order_id;
  auto& chain = self->state.chains[order_id];
  chain.push_back(std::move(w));
  if (chain.size() == 1)
    dispatch(self, order_id);
}

void handle_message(consumer_actor* self, RdKafka::Message& m) {
  auto& st = self->state;
  partition_id pid{m.topic_name(), m.partition()};
  auto t = st.partitions.find(pid);
  if (t == st.partitions.end())
    return; // not (or no longer) ours
  auto& track = t->second;
  message_ref ref{pid, m.offset(), track.generation, steady::now()};
  track.next = std::max(track.next, m.offset() + 1);
  if (!track.pending.insert(m.offset()).second)
    return; // already pending
  ++st.in_flight;

  auto decoded = decode_incoming(std::string_view{static_cast<const char*>(m.payload()), m.len()});
  if (auto* bad = std::get_if<decode_error>(&decoded)) {
    send_to_dlq(st, m, std::move(ref), bad->detail);
    return;
  }
  auto& ev = std::get<incoming_event>(decoded);
  if (!is_known_incoming_type(ev.event_type)) {
    st.metrics.unknown_type->inc();
    log::debug("saga event of unknown type skipped",
               {{"order_id", ev.order_id}, {"event_type", ev.event_type}});
    mark_done(st, ref);
    return;
  }
  st.metrics.consumed_of(ev.event_type).inc();
  enqueue(self, {std::move(ref), std::move(ev)});
}

/// At most one line per interval: a broker outage would otherwise log every step.
void log_consume_error(consumer_state& st, const RdKafka::Message& m) {
  auto now = steady::now();
  if (now < st.quiet_until)
    return;
  st.quiet_until = now + st.cfg.restart_pause;
  log::warn("saga consumer: consume error",
            {{"error", RdKafka::err2str(m.err())}, {"detail", m.errstr()}});
}

/// Pauses all partitions above the in-flight bound, resumes below half of it.
void flow_control(consumer_state& st) {
  bool over = st.in_flight >= st.cfg.max_in_flight;
  bool under = st.in_flight <= st.cfg.max_in_flight / 2;
  if (st.paused == over || (st.paused && !under))
    return;
  offset_list assigned;
  st.consumer->assignment(assigned);
  if (over)
    st.consumer->pause(assigned);
  else
    st.consumer->resume(assigned);
  st.paused = over;
  RdKafka::TopicPartition::destroy(assigned);
}

void poll_messages(consumer_actor* self) {
  auto& st = self->state;
  // Block only while no answer waits in the mailbox: answers free in-flight slots.
  auto wait = self->mailbox().empty() ? static_cast<int>(st.cfg.poll_wait.count()) : 0;
  for (std::size_t n = 0; n < st.cfg.poll_batch && !st.paused; ++n) {
    std::unique_ptr<RdKafka::Message> m{st.consumer->consume(n == 0 ? wait : 0)};
    if (!m || m->err() == RdKafka::ERR__TIMED_OUT)
      break;
    if (m->err() == RdKafka::ERR__PARTITION_EOF)
      continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      log_consume_error(st, *m);
      break;
    }
    handle_message(self, *m);
    flow_control(st);
  }
  // Paused: serve rebalances without blocking, so that answers, which free in-flight
  // slots, are taken as they come (the next step is a timer, or an answer resumes).
  if (st.paused)
    std::unique_ptr<RdKafka::Message>{st.consumer->consume(0)};
  flow_control(st);
}

void consume_step(consumer_actor* self) {
  auto& st = self->state;
  if (!ensure_clients(st)) {
    schedule_tick(self, st.cfg.restart_pause);
    return;
  }
  st.dlq_producer->poll(std::chrono::milliseconds{0});
  produce_dlq(st);
  poll_messages(self);
  if (steady::now() >= st.next_commit) {
    commit_all(st);
    update_gauges(st);
    st.next_commit = steady::now() + st.cfg.commit_interval;
  }
  schedule_tick(self, st.paused ? st.cfg.poll_wait : std::chrono::milliseconds{0});
}

/// Commits what is done and leaves the group; unfinished messages are read again by
/// whoever owns their partitions next.
void shut_down(consumer_state& st) {
  if (st.dlq_producer) {
    st.dlq_producer->flush(st.cfg.shutdown_grace);
    st.dlq_producer.reset();
  }
  if (st.consumer) {
    commit_all(st);
    st.consumer->close();
    st.consumer.reset();
  }
  st.chains.clear();
  st.parked.clear();
  st.waiting.clear();
  st.partitions.clear();
  st.in_flight = 0;
  update_gauges(st);
}

caf::behavior kafka_consumer(consumer_actor* self, consumer_settings cfg, caf::actor registry,
                             consumer_metrics metrics) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.registry = std::move(registry);
  st.metrics = std::move(metrics);
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
    [self](retry_event_atom, const std::string& order_id) { dispatch(self, order_id); },
    [self](unpark_atom, std::uint64_t token) { unpark(self, token); },
  };
}

} // namespace

caf::actor spawn_kafka_consumer(caf::actor_system& sys, const consumer_settings& settings,
                                caf::actor registry, metrics_registry& metrics) {
  return sys.spawn<caf::detached>(kafka_consumer, settings, std::move(registry),
                                  register_metrics(metrics));
}


} // namespace flashsale
