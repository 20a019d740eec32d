#pragma once
// Copies poison messages to the dead-letter topic (CONTRACT §5): the original key,
// value and headers plus dlq_reason, source_topic, source_partition, source_offset.
// A copy that is refused or not delivered is produced again on the next pump(), until
// it is delivered or forgotten. Not thread safe: one owner thread.

#include "kafka/consumer_client.hpp"
#include "kafka/producer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace flashsale::kafka {

class dlq_writer {
public:
  /// Called with the token of write() once the copy is acknowledged.
  using delivered_handler = std::function<void(std::uint64_t token)>;
  /// Called when a copy is refused or not delivered (it is retried).
  using failed_handler = std::function<void(const std::string& error)>;

  /// nullptr with `error` set when the producer cannot be created.
  static std::unique_ptr<dlq_writer> create(const std::string& brokers, std::string topic,
                                            delivered_handler on_delivered,
                                            failed_handler on_failed, std::string& error);
  dlq_writer(const dlq_writer&) = delete;
  dlq_writer& operator=(const dlq_writer&) = delete;

  /// Queues a copy of `m` with the DLQ headers and produces it; returns its token.
  std::uint64_t write(const consumed_message& m, const std::string& reason);

  /// Produces the copies that are not in flight (retries).
  void pump();

  /// Serves delivery reports without blocking.
  void poll();

  /// Waits at most `timeout` for the copies in flight; returns how many are left.
  int flush(std::chrono::milliseconds timeout);

  /// Forgets the copies of `topic`/`partition` that are not in flight (their partition
  /// went to another consumer, which reads them again).
  template <class Pred>
  void forget_unsent(Pred from_partition) {
    for (auto i = copies_.begin(); i != copies_.end();)
      i = (!i->second.queued && from_partition(i->second.source_topic, i->second.source_partition))
            ? copies_.erase(i)
            : std::next(i);
  }

private:
  struct copy {
    std::string key;
    std::string value;
    std::vector<header> headers;
    std::string source_topic;
    std::int32_t source_partition = -1;
    bool queued = false; // produced and waiting for its delivery report
  };

  dlq_writer() = default;
  void on_report(const delivery_report& r);

  std::string topic_;
  delivered_handler on_delivered_;
  failed_handler on_failed_;
  std::unique_ptr<producer> producer_;
  std::unordered_map<std::uint64_t, copy> copies_;
  std::uint64_t next_token_ = 1;
};

} // namespace flashsale::kafka
