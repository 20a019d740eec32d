#pragma once
// The outbox relay's two ports: the outbox store (its database session) and the message
// sink (its Kafka producer), with the clock it decides by. The relay (outbox_relay.cpp)
// does all its I/O through them; production adapts persistence::pg_session and
// kafka::producer (relay_adapters.cpp), the actor tests stub them
// (test/actor/relay_stubs.hpp) and run the relay on CAF's test_coordinator.

#include "actors/outbox/outbox_metrics.hpp"
#include "actors/outbox/relay_settings.hpp"
#include "kafka/producer.hpp"
#include "persistence/outbox_repository.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flashsale {

/// The relay's database session: claims and their records
/// (persistence/outbox_repository.hpp). Every call blocks and throws on a database
/// error; the relay then calls disconnect() and starts again after a backoff.
class outbox_store {
public:
  virtual ~outbox_store() = default;
  /// Makes the session the relay's own (LISTEN, ...): before the first claim and
  /// after every disconnect().
  virtual void prepare() = 0;
  virtual persistence::outbox_claim claim(std::size_t max_orders, std::size_t max_rows,
                                          std::chrono::milliseconds lease, bool runs) = 0;
  /// Whether due rows are pending (tells contention from an empty outbox).
  virtual bool has_due_rows() = 0;
  /// Records a finished batch: `sent` delivered (deleted, or SENT: OUTBOX_RETENTION_S),
  /// `failed` retried or DEAD, the rest released.
  virtual void complete(const persistence::outbox_claim& claim,
                        const std::vector<std::int64_t>& sent,
                        const std::vector<persistence::outbox_failure>& failed) = 0;
  /// Releases every row of the claim as it was.
  virtual void release(const persistence::outbox_claim& claim) = 0;
  /// Serves the notifications of new rows, waiting at most `timeout`; how many came.
  virtual int await_notification(std::chrono::microseconds timeout) = 0;
  /// Forgets the connection after an error that may have broken it.
  virtual void disconnect() = 0;
};

/// The relay's producer (kafka/producer.hpp): produced rows come back as delivery
/// reports, handed to the handler the sink was made with, while the relay flushes.
class message_sink {
public:
  using report_handler = std::function<void(const kafka::delivery_report&)>;
  virtual ~message_sink() = default;
  /// Queues `row` (its order id the key, its envelope the value, its headers);
  /// a returned report means it was refused at once and no report will come.
  virtual std::optional<kafka::delivery_report>
  produce(const std::string& topic, const persistence::outbox_row& row, std::uint64_t token) = 0;
  /// Serves reports until none is outstanding or `timeout` passes; how many remain.
  virtual int flush(std::chrono::milliseconds timeout) = 0;
  virtual int outstanding() const = 0;
  /// Gives up on every outstanding row: each gets a failed report on the next flush.
  virtual void purge() = 0;
  /// The fatal error that stopped the sink, if any: the relay then makes a new one.
  virtual std::optional<std::string> fatal_error() const = 0;
};

/// What one relay actor does its I/O through: made once per actor (and the sink
/// again after a fatal error).
struct relay_ports {
  std::function<std::unique_ptr<outbox_store>()> store;
  /// Null (logged) when the sink cannot be made now; the relay tries again later.
  std::function<std::unique_ptr<message_sink>(message_sink::report_handler)> sink;
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

/// The ports of the `index`-th production relay: a pg_session on cfg.database_url and
/// the producer of make_relay_producer (actors/outbox/relay_producer.hpp).
relay_ports production_relay_ports(const relay_settings& cfg, std::size_t index);

/// A relay over `ports`, spawned as an ordinary (not detached) actor, for ports that
/// never block: the actor tests' stubs. Production relays are detached
/// (spawn_outbox_relay), for their ports block.
caf::actor spawn_outbox_relay_over(caf::actor_system& sys, const relay_settings& settings,
                                   std::size_t index, const relay_metrics& metrics,
                                   relay_ports ports);

} // namespace flashsale
