#pragma once
// The Kafka producer of one outbox relay: its settings from relay_settings, its
// librdkafka log in the service's log, its topic's metadata fetched ahead, and the
// headers of what it produces.

#include "actors/outbox/relay_settings.hpp"
#include "kafka/producer.hpp"
#include "persistence/outbox_repository.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace flashsale {

/// The producer of the `index`-th relay, reporting each delivery to `on_delivery` (on
/// the thread that flushes it); null (logged) when librdkafka refuses the settings.
std::unique_ptr<kafka::producer>
make_relay_producer(const relay_settings& cfg, std::size_t index,
                    std::function<void(const kafka::delivery_report&)> on_delivery);

/// The row's Kafka headers (CONTRACT §5): event_type, CloudEvents binary mode, traceparent;
/// views into `row`.
event_header_views headers_of(const persistence::outbox_row& row);

} // namespace flashsale
