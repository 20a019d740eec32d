#pragma once
// The Kafka producer of one outbox relay: its settings from relay_settings, its
// librdkafka log in the service's log, its topic's metadata fetched ahead.

#include "actors/outbox/relay_settings.hpp"
#include "kafka/producer.hpp"

#include <cstddef>
#include <functional>
#include <memory>

namespace flashsale {

/// The producer of the `index`-th relay, reporting each delivery to `on_delivery` (on
/// the thread that flushes it); null (logged) when librdkafka refuses the settings.
std::unique_ptr<kafka::producer>
make_relay_producer(const relay_settings& cfg, std::size_t index,
                    std::function<void(const kafka::delivery_report&)> on_delivery);

} // namespace flashsale
