#include "actors/outbox/outbox_metrics.hpp"

#include <vector>

namespace flashsale {

namespace {

std::vector<double> batch_buckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
}

} // namespace

relay_metrics register_outbox_metrics(metrics_registry& reg) {
  relay_metrics m;
  m.published = &reg.get_counter("outbox_published_total",
                                 "Outbox events acknowledged by Kafka and marked SENT");
  m.dead = &reg.get_counter("outbox_dead_total", "Outbox events that no broker can accept (status DEAD)");
  m.failed_attempts = &reg.get_counter("outbox_failed_attempts_total",
                                       "Failed publication attempts of outbox events (retried, or DEAD when no retry can cure them)");
  m.empty_claims =
    &reg.get_counter("outbox_claims_empty_total", "Relay claims that found nothing to send");
  m.contended_claims = &reg.get_counter(
    "outbox_claim_contention_total",
    "Relay claims that found nothing although due rows were pending (held by other relays)");
  m.abandoned_batches = &reg.get_counter("outbox_abandoned_batches_total",
                                         "Claimed batches given up unfinished (re-sent later)");
  m.refused_batches = &reg.get_counter(
    "outbox_refused_batches_total",
    "Relay batches in which a broker refused a record batch as too large for the topic "
    "(max.message.bytes); its events are sent again one by one");
  m.retried_alone = &reg.get_counter(
    "outbox_retried_alone_total",
    "Outbox events produced again alone in their record batch after a batch refusal");
  m.delivered_alone = &reg.get_counter(
    "outbox_delivered_alone_total",
    "Outbox events acknowledged when sent alone after a batch refusal");
  m.lag =
    &reg.get_histogram("outbox_relay_lag_seconds", "Outbox event commit to Kafka acknowledgement");
  m.batch_rows =
    &reg.get_histogram("outbox_batch_size", "Rows per non-empty relay claim", {}, batch_buckets());
  auto g = m.gauges;
  reg.add_gauge("outbox_pending_rows", "Outbox events not yet published",
                [g] { return g->pending.load(); });
  reg.add_gauge("outbox_waiting_rows",
                "Outbox events whose last publication attempt failed, waiting to be retried "
                "(brokers or topic unreachable)",
                [g] { return g->waiting.load(); });
  reg.add_gauge("outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event",
                [g] { return g->oldest_pending_age_s.load(); });
  reg.add_gauge("outbox_dead_rows", "Outbox events with status DEAD",
                [g] { return g->dead.load(); });
  return m;
}

} // namespace flashsale
