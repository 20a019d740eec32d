#pragma once
// A thin adapter over librdkafka's KafkaConsumer for the saga consumer: configuration
// in one place, messages, partitions and rebalances as plain values, and no
// rdkafkacpp.h for the code that includes this. Not thread safe: one owner thread
// consumes, commits and closes (the rebalance handlers run inside consume() and close()).

#include "kafka/producer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flashsale::kafka {

struct consumer_client_settings {
  std::string brokers;
  std::string group_id;
  std::string client_id = "flashsale-order-consumer";
  std::vector<std::string> topics; // subscribed; none: partitions come through add()
  std::chrono::milliseconds session_timeout{10000};
  /// Static membership (KIP-345): a member that comes back within the session timeout
  /// under the same id gets its partitions back without a rebalance. Empty: dynamic.
  std::string instance_id;
  /// Incremental rebalances (KIP-429): a join or leave moves only the partitions that
  /// change hands; the others keep being consumed.
  bool cooperative = false;
  /// More librdkafka properties, applied last (tests, tuning).
  std::map<std::string, std::string> extra;
};

/// The offset that makes a partition start where its group committed (OFFSET_INVALID).
inline constexpr std::int64_t committed_offset = -1001;

struct topic_partition {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1; // the position to commit, or -1
  bool ok = true;           // after commit(): whether this one was committed
};

/// One consumed message, its bytes copied out of librdkafka.
struct consumed_message {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::optional<std::string> key;
  std::string value;
  std::vector<header> headers;
};

/// What one consume() call gave.
struct consume_result {
  enum kind { message, nothing, partition_eof, failed } what = nothing;
  consumed_message msg; // when `message`; its topic, partition and offset at `partition_eof`
  std::string error;    // when `failed`: name and detail
};

class consumer_client {
public:
  struct handlers {
    /// New partitions, before they are assigned; return true to assign them paused.
    std::function<bool(const std::vector<topic_partition>&)> assigned;
    /// Partitions taken away, before they are unassigned; `lost` when the group has
    /// already given them to another member (committing would fail).
    std::function<void(const std::vector<topic_partition>&, bool lost)> revoked;
    /// Errors and warnings of the client.
    std::function<void(log_severity, const std::string& what, const std::string& detail)> log;
    /// An assign, unassign, pause, resume or close that librdkafka refused, for all of
    /// `partitions` (e.g. "payment.v1.events[0],payment.v1.events[2]") or some of them.
    std::function<void(const std::string& op, const std::string& error,
                       const std::string& partitions)>
      failed;
  };

  /// A consumer subscribed to the settings' topics (joining the group happens in the
  /// background), or nullptr with `error` set.
  static std::unique_ptr<consumer_client> create(const consumer_client_settings& settings,
                                                 handlers h, std::string& error);
  ~consumer_client();
  consumer_client(const consumer_client&) = delete;
  consumer_client& operator=(const consumer_client&) = delete;

  /// Waits at most `timeout` for one message (serving rebalances meanwhile).
  consume_result consume(std::chrono::milliseconds timeout);

  /// Commits the given positions synchronously. Returns the error when the commit
  /// failed as a whole; each partition's `ok` says whether it was committed.
  std::optional<std::string> commit(std::vector<topic_partition>& offsets);

  /// Adds partitions to a client without subscription, read from their committed
  /// offsets (paused when `paused`), or takes them away; false (and `failed` called)
  /// when librdkafka refused.
  bool add(const std::vector<topic_partition>& partitions, bool paused);
  bool remove(const std::vector<topic_partition>& partitions);

  /// The topic's partition count from the brokers' metadata, nullopt (with `error`) when
  /// the brokers do not answer within `timeout` or do not know the topic.
  std::optional<int> partition_count(const std::string& topic, std::chrono::milliseconds timeout,
                                     std::string& error);

  /// Pauses or resumes every assigned partition; false (and `failed` called) when
  /// librdkafka refused it for any of them, which the caller must try again.
  bool pause_all();
  bool resume_all();

  /// False when the last rebalance's assign (or an add()) was refused: the group counts
  /// those partitions as ours while nothing fetches them, so the owner must make a new client.
  bool assignment_ok() const;

  /// The partition's high watermark as last seen, if known.
  std::optional<std::int64_t> high_watermark(const std::string& topic, std::int32_t partition);

  /// Leaves the group (revoking everything first); a refusal goes to `failed`.
  void close();

private:
  struct impl;
  explicit consumer_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace flashsale::kafka
