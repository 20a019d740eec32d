#pragma once
// What the saga consumer (actors/saga/kafka_consumer.hpp) needs to know, every default
// written once: app/config holds these settings (KAFKA_GROUP_ID, CONSUMER_MAX_IN_FLIGHT)
// and fills in the rest.

#include "messages/events.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace flashsale {

struct consumer_settings {
  std::string kafka_brokers;              // KAFKA_BROKERS
  std::string group_id = "order-service"; // KAFKA_GROUP_ID
  std::vector<std::string> topics{topics::inventory_events, topics::payment_events};
  std::string dlq_topic = topics::order_dlq;
  /// Consumed messages not yet handled, at most; consumption pauses above this and
  /// resumes below half of it, so memory stays bounded while the registry catches up.
  std::size_t max_in_flight = 5000; // CONSUMER_MAX_IN_FLIGHT
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

  // -- shard ownership (DESIGN.md "Many nodes", actors/saga/shard_membership.hpp) -----
  /// The shards' group: `group_id` + this. Its members subscribe to the first topic
  /// (whose partitions are the shards) and never read it.
  std::string shards_group_suffix = ".shards";
  std::string database_url; // DATABASE_URL: shard epochs
  std::string node_id;      // NODE_ID: recorded with each epoch
  /// NODE_ID given by the operator: it is the group.instance.id (static membership), so
  /// a restart within session_timeout moves no shard. A generated one changes with
  /// every process and would leave its shards unserved for session_timeout.
  bool static_membership = false;
  /// An acquisition waits this long for the previous owner's in-flight transactions
  /// before it ends them (a paused process holding one open).
  std::chrono::milliseconds acquire_wait{2000};
  std::chrono::milliseconds metadata_timeout{5000}; // the shard count from the brokers
  std::size_t backfill_batch = 1000; // deadline rows given their shard per statement
  /// A shards' client that has joined but has no assignment yet is not closed until it
  /// gets one, this long at most: librdkafka 2.0.2 crashes closing a cooperative-sticky
  /// member in that window (librdkafka #4312, fixed in 2.2).
  std::chrono::milliseconds first_assignment_wait{3000};
};

} // namespace flashsale
