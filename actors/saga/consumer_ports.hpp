#pragma once
// What the saga consumer (kafka_consumer.cpp, consumer_state.cpp) needs from the world
// outside its decisions, as small interfaces of our own: the data client that reads the
// saga partitions, the DLQ writer, and the shards' group membership. kafka_ports() wraps
// the librdkafka-based classes (kafka/consumer_client.hpp, kafka/dlq_writer.hpp) and the
// shards' group (shard_membership.hpp), which is what the service runs; the actor tests
// (test/actor/saga_consumer_*test.cpp) give stubs of these ports, so the consumer runs on
// CAF's test_coordinator with the test deciding what is read and when answers come.

#include "kafka/consumer_client.hpp"
#include "kafka/dlq_writer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace flashsale {

struct consumer_state;

/// saga_membership::take_epoch's answer when the database answered but refused this one
/// shard (its lock stayed taken): the other pending shards are still tried in the same
/// step. Any other exception means the database is not answering, and the rest wait.
struct shard_epoch_refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The client reading the owned shards' saga partitions (kafka::consumer_client's calls
/// the consumer makes, with the same meaning).
class saga_data_client {
public:
  virtual ~saga_data_client() = default;
  virtual kafka::consume_result consume(std::chrono::milliseconds timeout) = 0;
  virtual std::optional<std::string> commit(std::vector<kafka::topic_partition>& offsets) = 0;
  virtual bool add(const std::vector<kafka::topic_partition>& partitions, bool paused) = 0;
  virtual bool remove(const std::vector<kafka::topic_partition>& partitions) = 0;
  virtual std::optional<int> partition_count(const std::string& topic,
                                             std::chrono::milliseconds timeout,
                                             std::string& error) = 0;
  virtual bool pause_all() = 0;
  virtual bool resume_all() = 0;
  virtual bool assignment_ok() const = 0;
  virtual std::optional<std::int64_t> high_watermark(const std::string& topic,
                                                     std::int32_t partition) = 0;
  virtual void close() = 0;
};

/// The DLQ writer (kafka::dlq_writer's calls, same meaning): its handlers run only
/// inside poll(), pump() and flush().
class saga_dlq {
public:
  using partition_test = std::function<bool(const std::string& topic, std::int32_t partition)>;
  virtual ~saga_dlq() = default;
  virtual std::uint64_t write(const kafka::consumed_message& m, const std::string& reason) = 0;
  virtual void pump() = 0;
  virtual void poll() = 0;
  virtual int flush(std::chrono::milliseconds timeout) = 0;
  virtual void forget_unsent(const partition_test& from_partition) = 0;
};

/// Shard ownership as the consumer's steps see it (shard_membership.hpp in the service).
class saga_membership {
public:
  virtual ~saga_membership() = default;
  /// Joined (or joining) and the shard count known; false while that cannot be done.
  virtual bool ensure(consumer_state& st) = 0;
  /// Serves the group between two consume steps.
  virtual void poll(consumer_state& st) = 0;
  /// Leaves: every shard revoked first (committed, released).
  virtual void close(consumer_state& st) = 0;
  /// A new data client: the owned shards' partitions are added to it.
  virtual void reassign_owned(consumer_state& st) = 0;
  /// Raises `shard`'s epoch for this node (PostgreSQL in the service): the new epoch;
  /// `ended` counts the previous owner's transactions it ended. Throws when it cannot
  /// be taken now (the shard stays pending): shard_epoch_refused for this shard alone.
  virtual std::int64_t take_epoch(consumer_state& st, int shard, std::size_t& ended) = 0;
};

struct consumer_ports {
  using client_factory = std::function<std::unique_ptr<saga_data_client>(
    const kafka::consumer_client_settings&, kafka::consumer_client::handlers, std::string& error)>;
  using dlq_factory = std::function<std::unique_ptr<saga_dlq>(
    const std::string& brokers, const std::string& topic, kafka::dlq_handlers, std::string& error)>;

  client_factory make_client; // nullptr with `error` when it cannot be made now
  dlq_factory make_dlq;       // the same
  std::shared_ptr<saga_membership> membership;
  /// The next step after one that consumed nothing: 0 where consume() waits by itself
  /// (librdkafka blocks up to poll_wait), a timer where it cannot (stubs on
  /// test_coordinator, whose clock the test moves).
  std::chrono::milliseconds idle_step{0};
};

/// The service's ports: librdkafka clients and the shards' group.
consumer_ports kafka_ports();

} // namespace flashsale
