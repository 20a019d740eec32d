// The production ports of an outbox relay (actors/outbox/relay_ports.hpp): its own
// PostgreSQL session and its Kafka producer, forwarded to as they are.
#include "actors/outbox/relay_ports.hpp"

#include "actors/outbox/relay_producer.hpp"
#include "persistence/pg_session.hpp"

namespace flashsale {

namespace {

/// Every call runs under the session's watchdog (pg_session::with): one the database
/// does not answer is cut after db_limits.call_timeout() and throws, so the relay
/// drops the connection and retries.
class pg_outbox_store final : public outbox_store {
public:
  explicit pg_outbox_store(const relay_settings& cfg)
    : db_(cfg.database_url, std::chrono::milliseconds{500}, cfg.db_limits),
      delivered_(cfg.retention.count() > 0 ? persistence::delivered_rows::keep
                                           : persistence::delivered_rows::remove) {}

  void prepare() override {
    db_.with([](auto& conn) { persistence::prepare_relay_session(conn); });
  }

  persistence::outbox_claim claim(std::size_t max_orders, std::size_t max_rows,
                                  std::chrono::milliseconds lease, bool runs) override {
    return db_.with([&](auto& conn) {
      return persistence::claim_outbox(conn, max_orders, max_rows, lease, runs);
    });
  }

  bool has_due_rows() override {
    return db_.with([](auto& conn) { return persistence::outbox_has_due_rows(conn); });
  }

  void complete(const persistence::outbox_claim& claim, const std::vector<std::int64_t>& sent,
                const std::vector<persistence::outbox_failure>& failed) override {
    db_.with([&](auto& conn) {
      persistence::complete_outbox_claim(conn, claim, sent, failed, delivered_);
    });
  }

  void release(const persistence::outbox_claim& claim) override {
    db_.with([&](auto& conn) { persistence::release_outbox_claim(conn, claim); });
  }

  int await_notification(std::chrono::microseconds timeout) override {
    return db_.with(
      [timeout](auto& conn) { return persistence::await_outbox_notification(conn, timeout); });
  }

  void disconnect() override { db_.reset(); }

private:
  persistence::pg_session db_;
  persistence::delivered_rows delivered_; // OUTBOX_RETENTION_S: 0 deletes, else SENT
};

class kafka_message_sink final : public message_sink {
public:
  explicit kafka_message_sink(std::unique_ptr<kafka::producer> producer)
    : producer_(std::move(producer)) {}

  std::optional<kafka::delivery_report> produce(const std::string& topic,
                                                const persistence::outbox_row& row,
                                                std::uint64_t token) override {
    return producer_->produce_viewed(topic, row.aggregate_id, row.payload, headers_of(row),
                                     token);
  }

  int flush(std::chrono::milliseconds timeout) override { return producer_->flush(timeout); }
  int outstanding() const override { return producer_->outstanding(); }
  void purge() override { producer_->purge(); }
  std::optional<std::string> fatal_error() const override { return producer_->fatal_error(); }

private:
  std::unique_ptr<kafka::producer> producer_;
};

} // namespace

relay_ports production_relay_ports(const relay_settings& cfg, std::size_t index) {
  relay_ports ports;
  ports.store = [cfg]() -> std::unique_ptr<outbox_store> {
    return std::make_unique<pg_outbox_store>(cfg);
  };
  ports.sink = [cfg, index](message_sink::report_handler on_report)
    -> std::unique_ptr<message_sink> {
    auto producer = make_relay_producer(cfg, index, std::move(on_report));
    if (!producer)
      return nullptr;
    return std::make_unique<kafka_message_sink>(std::move(producer));
  };
  return ports;
}

} // namespace flashsale
