#include "actors/saga/consumer_ports.hpp"

#include "actors/saga/shard_membership.hpp"

#include <utility>

namespace flashsale {

namespace {

/// kafka::consumer_client as the data client port: every call passed through.
class librdkafka_client final : public saga_data_client {
public:
  explicit librdkafka_client(std::unique_ptr<kafka::consumer_client> c) : c_(std::move(c)) {}

  kafka::consume_result consume(std::chrono::milliseconds timeout) override {
    return c_->consume(timeout);
  }
  std::optional<std::string> commit(std::vector<kafka::topic_partition>& offsets) override {
    return c_->commit(offsets);
  }
  bool add(const std::vector<kafka::topic_partition>& partitions, bool paused) override {
    return c_->add(partitions, paused);
  }
  bool remove(const std::vector<kafka::topic_partition>& partitions) override {
    return c_->remove(partitions);
  }
  std::optional<int> partition_count(const std::string& topic, std::chrono::milliseconds timeout,
                                     std::string& error) override {
    return c_->partition_count(topic, timeout, error);
  }
  bool pause_all() override { return c_->pause_all(); }
  bool resume_all() override { return c_->resume_all(); }
  bool assignment_ok() const override { return c_->assignment_ok(); }
  std::optional<std::int64_t> high_watermark(const std::string& topic,
                                             std::int32_t partition) override {
    return c_->high_watermark(topic, partition);
  }
  void close() override { c_->close(); }

private:
  std::unique_ptr<kafka::consumer_client> c_;
};

/// kafka::dlq_writer as the DLQ port.
class librdkafka_dlq final : public saga_dlq {
public:
  explicit librdkafka_dlq(std::unique_ptr<kafka::dlq_writer> w) : w_(std::move(w)) {}

  std::uint64_t write(const kafka::consumed_message& m, const std::string& reason) override {
    return w_->write(m, reason);
  }
  void pump() override { w_->pump(); }
  void poll() override { w_->poll(); }
  int flush(std::chrono::milliseconds timeout) override { return w_->flush(timeout); }
  void forget_unsent(const partition_test& from_partition) override {
    w_->forget_unsent(from_partition);
  }

private:
  std::unique_ptr<kafka::dlq_writer> w_;
};

/// The shards' group of shard_membership.cpp.
class shards_group final : public saga_membership {
public:
  bool ensure(consumer_state& st) override { return ensure_membership(st); }
  void poll(consumer_state& st) override { poll_membership(st); }
  void close(consumer_state& st) override { close_membership(st); }
  void reassign_owned(consumer_state& st) override { flashsale::reassign_owned(st); }
  std::int64_t take_epoch(consumer_state& st, int shard, std::size_t& ended) override {
    return take_shard_epoch(st, shard, ended);
  }
};

} // namespace

consumer_ports kafka_ports() {
  consumer_ports p;
  p.make_client = [](const kafka::consumer_client_settings& s, kafka::consumer_client::handlers h,
                     std::string& error) -> std::unique_ptr<saga_data_client> {
    auto c = kafka::consumer_client::create(s, std::move(h), error);
    if (!c)
      return nullptr;
    return std::make_unique<librdkafka_client>(std::move(c));
  };
  p.make_dlq = [](const std::string& brokers, const std::string& topic, kafka::dlq_handlers h,
                  std::string& error) -> std::unique_ptr<saga_dlq> {
    auto w = kafka::dlq_writer::create(brokers, topic, std::move(h), error);
    if (!w)
      return nullptr;
    return std::make_unique<librdkafka_dlq>(std::move(w));
  };
  p.membership = std::make_shared<shards_group>();
  return p;
}

} // namespace flashsale
