#include "actors/outbox/relay_producer.hpp"

#include "actors/log.hpp"
#include "messages/event_headers.hpp"

#include <string>

namespace flashsale {

namespace {

void log_kafka(std::size_t relay, kafka::log_severity sev, const std::string& fac,
               const std::string& text) {
  log::fields f{{"relay", std::to_string(relay)}, {"facility", fac}, {"detail", text}};
  switch (sev) {
    case kafka::log_severity::error:
      log::error("kafka producer", f);
      break;
    case kafka::log_severity::warning:
      log::warn("kafka producer", f);
      break;
    case kafka::log_severity::info:
      log::info("kafka producer", f);
      break;
    case kafka::log_severity::debug:
      log::debug("kafka producer", f);
      break;
  }
}

kafka::producer_settings producer_settings_for(const relay_settings& cfg, std::size_t index) {
  kafka::producer_settings ps;
  ps.brokers = cfg.kafka_brokers;
  ps.client_id = "flashsale-order-relay-" + std::to_string(index);
  ps.linger_ms = cfg.linger_ms;
  ps.extra = cfg.producer_extra;
  ps.max_in_flight = cfg.max_in_flight;
  ps.message_timeout_ms = static_cast<int>(cfg.message_timeout.count());
  return ps;
}

} // namespace

std::unique_ptr<kafka::producer>
make_relay_producer(const relay_settings& cfg, std::size_t index,
                    std::function<void(const kafka::delivery_report&)> on_delivery) {
  std::string error;
  auto producer = kafka::producer::create(
    producer_settings_for(cfg, index), std::move(on_delivery),
    [index](kafka::log_severity sev, const std::string& fac, const std::string& text) {
      log_kafka(index, sev, fac, text);
    },
    error);
  if (!producer) {
    log::error("outbox relay cannot create producer",
               {{"relay", std::to_string(index)}, {"error", error}});
    return nullptr;
  }
  // Bounded by one wait slice: a broker that is down must not keep exit messages
  // waiting; librdkafka fetches the metadata by itself later anyway.
  if (auto failed = producer->warm_up(cfg.topic, cfg.wait_slice))
    log::warn("outbox relay: no topic metadata yet",
              {{"relay", std::to_string(index)}, {"error", *failed}});
  return producer;
}

event_header_views headers_of(const persistence::outbox_row& row) {
  return event_header_views_of(
    {row.event_id, row.event_type, row.aggregate_id, row.payload, row.traceparent});
}

} // namespace flashsale
