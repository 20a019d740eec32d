#pragma once
// The saga consumer's state and what it does with its Kafka clients (kafka_consumer.cpp
// is the actor): the consumer client and the DLQ writer made on demand through its
// ports (consumer_ports.hpp), offsets committed behind durable work, rebalances, flow
// control, poison copied to the DLQ. Everything here runs in the consumer's own thread
// (detached in the service).

#include "actors/saga/consumer_ports.hpp"
#include "actors/saga/kafka_consumer.hpp"
#include "actors/saga/saga_metrics.hpp"
#include "actors/saga/saga_pipeline.hpp"
#include "actors/saga/shard_handoff.hpp"
#include "actors/saga/shard_membership.hpp"
#include "kafka/consumer_client.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace flashsale {

using steady = std::chrono::steady_clock;

struct consumer_state {
  consumer_settings cfg;
  order_api registry;
  saga_metrics metrics;
  consumer_ports ports;
  /// The actor system's clock: steady_clock in the service, the test's in actor tests.
  const caf::actor_clock* clock = nullptr;
  std::unique_ptr<saga_data_client> consumer; // the saga partitions of owned shards
  std::unique_ptr<saga_dlq> dlq_writer;
  // -- ownership (shard_membership.hpp) --
  shard_ports shards;
  std::unique_ptr<kafka::consumer_client> membership; // the shards' group
  std::unique_ptr<persistence::pg_session> epochs_db;
  /// Pending and lost shards (shard_handoff.hpp). Lost ones (a session that timed out:
  /// the brokers unreachable, or this process paused) keep their epochs until the group
  /// answers again: while nobody else acquires them every write still passes the fence,
  /// so a broker outage does not stop creates; once another node acquires one, our writes
  /// to it are refused in the database.
  shard_handoff handoff;
  bool closing = false;        // leaving the group: every shard is released
  bool ever_assigned = false;  // the shards' client got its first assignment
  steady::time_point acquire_quiet_until{}; // no failed acquisition is logged before this
  bool backfilled = false;
  saga_pipeline pipeline; // every decision: offsets, chains, slots, retries, DLQ tokens
  std::uint64_t tick = 0; // the one consume_tick that counts; older ones are ignored
  steady::time_point next_commit{};
  steady::time_point quiet_until{};        // no consume error is logged before this
  steady::time_point client_quiet_until{}; // no refused call is logged before this

  steady::time_point now() const { return clock->now(); }

  static inline const char* name = "kafka_consumer";
};

/// Records how long a handled event took, when it counted.
void observe_handled(consumer_state& st, std::optional<double> seconds);

/// Commits the handled prefix of the partitions in `only` (all when empty).
void commit(consumer_state& st, const std::set<partition_id>& only = {});

void update_gauges(consumer_state& st);

/// Makes the consumer client and the DLQ writer when missing; false when one cannot be made.
bool ensure_clients(consumer_state& st);

/// A copy of the message with its original headers and the four of CONTRACT §5.
void send_to_dlq(consumer_state& st, saga_dlq_copy copy);

/// At most one line per interval: a broker outage would otherwise log every step.
void log_consume_error(consumer_state& st, const std::string& error);

/// Pauses all partitions at the in-flight bound, resumes at half of it.
void flow_control(consumer_state& st);

/// Commits what is done and leaves the group.
void close_consumer(consumer_state& st);

/// A client whose last assign librdkafka refused leaves; the next step makes a new one.
void restart_if_unassigned(consumer_state& st);

/// Flushes the DLQ and closes the consumer (the actor's exit).
void shut_down(consumer_state& st);

} // namespace flashsale
