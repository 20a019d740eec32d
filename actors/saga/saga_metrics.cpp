#include "actors/saga/saga_metrics.hpp"

#include <utility>

namespace flashsale {

counter& saga_metrics::consumed_of(const std::string& type) {
  auto i = consumed.find(type);
  if (i != consumed.end())
    return *i->second;
  auto& c = registry->get_counter("saga_events_consumed_total",
                                  "Saga events consumed, by event type", {{"event_type", type}});
  consumed.emplace(type, &c);
  return c;
}

saga_metrics register_saga_metrics(metrics_registry& reg) {
  saga_metrics m;
  m.registry = &reg;
  const std::pair<event_status, const char*> outcomes[] = {
    {event_status::applied, "applied"},     {event_status::duplicate, "duplicate"},
    {event_status::ignored, "ignored"},     {event_status::payment_rejected, "payment_rejected"},
    {event_status::not_found, "not_found"}, {event_status::rejected, "rejected"},
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
  m.stale_answers = &reg.get_counter(
    "saga_event_stale_answers_total",
    "Answers to saga events dropped by a revoke or a new client meanwhile (ignored)");
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
  m.shard_acquisitions = &reg.get_counter(
    "cluster_shard_acquisitions_total",
    "Shards this node took from the group's assignment, each with a new epoch");
  m.shard_writers_ended = &reg.get_counter(
    "cluster_shard_writers_ended_total",
    "Open transactions of a previous owner ended to take its shard (a paused process)");
  // One help text for the family: Prometheus keeps one per metric name.
  const char* revoked_help = "Shards the group took from this node: revoked (done work "
                             "committed first) or lost (session expired, nothing committed)";
  m.shards_revoked =
    &reg.get_counter("cluster_shards_revoked_total", revoked_help, {{"how", "revoked"}});
  m.shards_lost = &reg.get_counter("cluster_shards_revoked_total", revoked_help, {{"how", "lost"}});
  auto g = m.gauges;
  reg.add_gauge("cluster_shards_owned", "Shards this node owns now (epoch taken)",
                [g] { return g->shards_owned.load(); });
  reg.add_gauge("saga_consumer_in_flight", "Saga messages consumed and not yet handled",
                [g] { return g->in_flight.load(); });
  reg.add_gauge("saga_consumer_lag", "Saga messages in Kafka not yet handled (approximate)",
                [g] { return g->lag.load(); });
  return m;
}

} // namespace flashsale
