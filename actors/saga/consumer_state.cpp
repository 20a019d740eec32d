#include "actors/saga/consumer_state.hpp"

#include "actors/log.hpp"

#include <utility>
#include <vector>

namespace flashsale {

void observe_handled(consumer_state& st, std::optional<double> seconds) {
  if (seconds)
    st.metrics.handle_seconds->observe(*seconds);
}

/// Commits the handled prefix of the partitions in `only` (all when empty); logs
/// failures (the next round tries again).
void commit(consumer_state& st, const std::set<partition_id>& only) {
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

namespace {

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
  auto now = st.now();
  if (now < st.client_quiet_until)
    return;
  st.client_quiet_until = now + st.cfg.restart_pause;
  log::error("saga consumer: librdkafka refused a call",
             {{"op", op}, {"error", error}, {"partitions", partitions}});
}

std::unique_ptr<saga_data_client> make_consumer(consumer_state& st, std::string& error) {
  kafka::consumer_client_settings s;
  s.brokers = st.cfg.kafka_brokers;
  s.group_id = st.cfg.group_id;
  // No subscription: the shards' group decides which partitions (shard_membership.cpp),
  // and this client commits under the group id without being a member.
  s.session_timeout = st.cfg.session_timeout;
  s.extra = st.cfg.consumer_extra;
  kafka::consumer_client::handlers h;
  h.log = [](kafka::log_severity, const std::string& what, const std::string& detail) {
    log::warn("kafka consumer", {{"error", what}, {"detail", detail}});
  };
  h.failed = [&st](const std::string& op, const std::string& error, const std::string& partitions) {
    on_client_failed(st, op, error, partitions);
  };
  return st.ports.make_client(s, std::move(h), error);
}

void on_dlq_delivered(consumer_state& st, std::uint64_t token, bool truncated) {
  if (!st.pipeline.dlq_source(token))
    return; // dropped by a revoke or a new client
  st.metrics.dlq->inc();
  if (truncated)
    st.metrics.dlq_truncated->inc();
  observe_handled(st, st.pipeline.dlq_done(token, st.now()));
}

/// The DLQ will never take this copy: the message is skipped with an error line that
/// says where it is, so that the partition goes on.
void on_dlq_lost(consumer_state& st, std::uint64_t token, const std::string& error) {
  const auto* ref = st.pipeline.dlq_source(token);
  if (!ref)
    return;
  log::error("saga message not copied to the DLQ, skipped",
             {{"topic", ref->partition.first},
              {"partition", std::to_string(ref->partition.second)},
              {"offset", std::to_string(ref->offset)},
              {"error", error}});
  st.metrics.dlq_lost->inc();
  observe_handled(st, st.pipeline.dlq_done(token, st.now()));
}

} // namespace

bool ensure_clients(consumer_state& st) {
  std::string error;
  if (!st.consumer) {
    st.consumer = make_consumer(st, error);
    if (!st.consumer) {
      log::error("saga consumer cannot be created", {{"error", error}});
      return false;
    }
    log::info("saga consumer created", {{"group_id", st.cfg.group_id}});
    // A new client after a restart: the shards still owned.
    st.ports.membership->reassign_owned(st);
  }
  if (!st.ports.membership->ensure(st))
    return false;
  if (!st.dlq_writer) {
    kafka::dlq_handlers h;
    h.delivered = [&st](std::uint64_t token, bool truncated) {
      on_dlq_delivered(st, token, truncated);
    };
    h.lost = [&st](std::uint64_t token, const std::string& e) { on_dlq_lost(st, token, e); };
    h.failed = [](const std::string& e) { log::warn("saga consumer: DLQ", {{"error", e}}); };
    st.dlq_writer = st.ports.make_dlq(st.cfg.kafka_brokers, st.cfg.dlq_topic, std::move(h), error);
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

/// At most one line per interval: a broker outage would otherwise log every step.
void log_consume_error(consumer_state& st, const std::string& error) {
  auto now = st.now();
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

/// Commits what is done and leaves the group; unfinished messages are read again by
/// whoever owns their partitions next.
void close_consumer(consumer_state& st) {
  st.ports.membership->close(st); // every shard revoked: committed and released
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
  close_consumer(st);
}

} // namespace flashsale
