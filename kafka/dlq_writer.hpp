#pragma once
// Copies poison messages to the dead-letter topic (CONTRACT §5): the original key,
// value and headers plus dlq_reason, source_topic, source_partition, source_offset.
// A copy that would not fit the DLQ's message size limit keeps only the start of the
// value (header dlq_truncated: the original value's size in bytes). A copy that is
// refused or not delivered for a passing reason (brokers down, queue full) is produced
// again on the next pump(), until it is delivered or forgotten; one that no broker will
// take (too large for the topic after all, invalid) is sent once more stripped to key
// and DLQ headers, and then given up (lost_handler). Not thread safe: one owner thread.

#include "kafka/consumer_client.hpp"
#include "kafka/dlq_copy.hpp"
#include "kafka/producer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace flashsale::kafka {

struct dlq_handlers {
  /// The copy of write()'s token is acknowledged; `truncated`: not whole (dlq_truncated).
  std::function<void(std::uint64_t token, bool truncated)> delivered;
  /// The copy of write()'s token will never be accepted; it is given up.
  std::function<void(std::uint64_t token, const std::string& error)> lost;
  /// Something went wrong and is retried (a refused copy, a new producer).
  std::function<void(const std::string& error)> failed;
};

class dlq_writer {
public:
  /// nullptr with `error` set when the producer cannot be created. `max_bytes` is the
  /// most the DLQ topic accepts (its max.message.bytes, and our producer's limit).
  static std::unique_ptr<dlq_writer> create(const std::string& brokers, std::string topic,
                                            dlq_handlers handlers, std::string& error,
                                            std::size_t max_bytes = max_message_bytes);
  dlq_writer(const dlq_writer&) = delete;
  dlq_writer& operator=(const dlq_writer&) = delete;

  /// Queues a copy of `m` with the DLQ headers and produces it; returns its token. No
  /// handler is called for it before write() returns.
  std::uint64_t write(const consumed_message& m, const std::string& reason);

  /// Produces the copies that are not in flight (retries); replaces a producer that
  /// stopped with a fatal error.
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
    dlq_copy msg;
    std::size_t value_size = 0; // of the original
    bool truncated = false;     // dlq_truncated is among the headers
    std::string source_topic;
    std::int32_t source_partition = -1;
    bool stripped = false; // key and DLQ headers only: the last try
    bool queued = false;   // produced and waiting for its delivery report
  };

  dlq_writer() = default;
  bool make_producer(std::string& error);
  void on_report(const delivery_report& r);
  /// `error` is permanent for the copy of `token`: strip it, or give it up.
  void refused_for_good(std::unordered_map<std::uint64_t, copy>::iterator i,
                        const std::string& error);

  std::string brokers_;
  std::string topic_;
  std::size_t max_bytes_ = max_message_bytes;
  dlq_handlers handlers_;
  std::unique_ptr<producer> producer_;
  std::unordered_map<std::uint64_t, copy> copies_;
  std::uint64_t next_token_ = 1;
};

} // namespace flashsale::kafka
