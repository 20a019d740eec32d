#pragma once
// A thin adapter over librdkafka's producer: configuration in one place, delivery
// reports as plain values, and no rdkafkacpp.h for the code that includes this.
// Not thread safe: one owner thread produces, polls and flushes (callbacks run there).

#include "messages/event_headers.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace RdKafka {
class Headers;
} // namespace RdKafka

namespace flashsale::kafka {

/// The largest produce request (and so the largest message) our producers send:
/// librdkafka's `message.max.bytes`. A message above it is refused at produce() with
/// RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE. The topics' `max.message.bytes` and the
/// brokers' `message.max.bytes` must be at least this (Kafka's default, 1 048 588, is).
constexpr int max_message_bytes = 1 << 20; // 1 MiB

struct producer_settings {
  std::string brokers;
  std::string client_id = "flashsale-order";
  /// How long a message may wait for companions before its batch is sent; flush()
  /// sends at once anyway.
  double linger_ms = 2;
  /// How long a message may take to be acknowledged before it fails with a timeout;
  /// 0 = never give up (retry until delivered, purged or fatal). The outbox relay sets
  /// a finite one, shorter than its lease (persistence/outbox_repository.cpp, point 2).
  int message_timeout_ms = 0;
  /// Fail the producer (fatal error) rather than skip a failed message and write the
  /// ones after it.
  bool gapless = true;
  /// Produce requests in flight per broker connection; the idempotent producer keeps
  /// the order of a partition with up to 5.
  int max_in_flight = 5;
  /// librdkafka's message.max.bytes.
  int message_max_bytes = max_message_bytes;
  /// More librdkafka properties, applied last (tests, tuning).
  std::map<std::string, std::string> extra;
};

struct header {
  std::string name;
  std::string value;
};

struct delivery_report {
  std::uint64_t token = 0; // as given to produce()
  bool ok = false;
  int error_code = 0; // librdkafka's error code, 0 when ok
  std::string error;  // human readable, empty when ok
  /// No retry of the same request can cure it (too large, invalid). Refused by
  /// produce(), this is the message's own fault. In a delivery report it holds for the
  /// record batch the message travelled in: a broker refuses a batch larger than the
  /// topic's max.message.bytes whole, and librdkafka does not split it, so only a
  /// message refused while alone in its batch is too large itself
  /// (actors/outbox/relay_batch.hpp).
  bool permanent = false;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

enum class log_severity { debug, info, warning, error };

class producer {
public:
  using report_handler = std::function<void(const delivery_report&)>;
  using log_handler =
    std::function<void(log_severity, const std::string& facility, const std::string& text)>;

  /// A connected producer (connecting happens in the background), or nullptr with
  /// `error` set when the configuration is refused.
  static std::unique_ptr<producer> create(const producer_settings& settings,
                                          report_handler on_report, log_handler on_log,
                                          std::string& error);
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  /// Fetches `topic`'s metadata now. Without it the first message to the topic waits
  /// for a metadata refresh (about half a second when the producer was idle since its
  /// start). Returns the error if the brokers did not answer within `timeout`.
  std::optional<std::string> warm_up(const std::string& topic, std::chrono::milliseconds timeout);

  /// Queues one message (copied), partitioned by key. A returned error means the
  /// message was not queued and no report will come for it.
  std::optional<delivery_report> produce(const std::string& topic, std::string_view key,
                                         std::string_view value, const std::vector<header>& headers,
                                         std::uint64_t token);
  /// The same with the headers as views (an outbox relay's, made without allocating).
  std::optional<delivery_report> produce_viewed(const std::string& topic, std::string_view key,
                                         std::string_view value,
                                         const event_header_views& headers, std::uint64_t token);

  /// Sends what is queued without lingering and serves delivery reports until every
  /// message is reported or `timeout` passes. Returns how many are still outstanding.
  int flush(std::chrono::milliseconds timeout);

  /// Serves the delivery reports that are ready, waiting at most `timeout` for one.
  void poll(std::chrono::milliseconds timeout);

  /// Messages produced but not yet reported.
  int outstanding() const;

  /// Gives up on every queued and in-flight message: each gets a failed report on
  /// the next poll/flush. An in-flight message may still reach the broker.
  void purge();

  /// The fatal error that stopped this producer, if any: create a new one.
  std::optional<std::string> fatal_error() const;

private:
  struct impl;
  /// Queues with `headers` (owned by librdkafka once queued, deleted here otherwise).
  std::optional<delivery_report> produce_with(const std::string& topic, std::string_view key,
                                              std::string_view value, RdKafka::Headers* headers,
                                              std::uint64_t token);
  explicit producer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace flashsale::kafka
