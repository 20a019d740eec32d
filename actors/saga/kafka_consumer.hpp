#pragma once
// The Kafka bridge of the `consumer` role (DESIGN.md "Saga consumer"): a detached actor
// that owns a KafkaConsumer on inventory.v1.events and payment.v1.events, routes every
// decodable event to its order through the registry, copies poison messages to
// order.v1.dlq, and commits an offset only once every message before it is handled.
//
// Messages of different orders are in flight concurrently; one order's messages go to
// the registry one at a time, in the order they were consumed, so a retried message is
// never overtaken by a later one of the same order.

#include "messages/events.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace flashsale {

class metrics_registry;

struct consumer_settings {
  std::string kafka_brokers;              // KAFKA_BROKERS
  std::string group_id = "order-service"; // KAFKA_GROUP_ID
  std::vector<std::string> topics{topics::inventory_events, topics::payment_events};
  std::string dlq_topic = topics::order_dlq;
  /// Consumed messages not yet handled, at most; consumption pauses above this and
  /// resumes below half of it, so memory stays bounded while the registry catches up.
  std::size_t max_in_flight = 5000;
  /// Events at the registry at once, at most; the others wait here. Keeps the queues
  /// inside the actors short, so an answer is late only when something is wrong and
  /// request_timeout does not fire merely because the database is busy.
  std::size_t max_dispatched = 1000;
  std::size_t poll_batch = 500;                    // messages taken per step
  std::chrono::milliseconds poll_wait{20};         // longest block in consume()
  std::chrono::milliseconds commit_interval{100};  // offsets committed this often
  std::chrono::milliseconds request_timeout{5000}; // an answer from the registry
  std::chrono::milliseconds retry_base{100};       // first retry of a failed event
  std::chrono::milliseconds retry_max{5000};       // backoff doubles up to this
  std::chrono::milliseconds restart_pause{1000};  // after the client cannot be created
  std::chrono::milliseconds shutdown_grace{2000}; // DLQ delivery reports on exit
  /// A consumer that stops heartbeating (its process died) loses its partitions to the
  /// group's other members after this long; librdkafka's default is 45 s.
  std::chrono::milliseconds session_timeout{10000};
  std::map<std::string, std::string> consumer_extra; // more librdkafka properties
};

/// Spawns the bridge and registers its metrics in `metrics`, which must outlive it.
/// Stop it with stop_and_wait (actors/stop.hpp): it commits what is done and leaves the group.
caf::actor spawn_kafka_consumer(caf::actor_system& sys, const consumer_settings& settings,
                                caf::actor registry, metrics_registry& metrics);

/// Sends the bridge an exit message and blocks until it has left the group.

} // namespace flashsale
