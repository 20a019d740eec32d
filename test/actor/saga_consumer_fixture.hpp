#pragma once
// The saga consumer actor (actors/saga/kafka_consumer.cpp) over the stub ports of
// saga_consumer_stubs.hpp on CAF's test_coordinator, with the saga messages and the
// answers its tests use (saga_consumer_test.cpp, saga_consumer_revoke_test.cpp,
// saga_consumer_handover_test.cpp).

#include "actors/saga/kafka_consumer.hpp"
#include "messages/shard.hpp"
#include "metrics/metrics.hpp"
#include "test/actor/caf_fixture.hpp"
#include "test/actor/saga_consumer_stubs.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace flashsale::test {

inline const std::string saga_topic = topics::inventory_events;

inline std::string event_id_of(std::int64_t offset) {
  auto n = std::to_string(offset);
  return "00000000-0000-4000-8000-" + std::string(12 - n.size(), '0') + n;
}

/// A valid saga event of `order_id` at `offset` of `partition` of inventory.v1.events.
inline kafka::consumed_message message(std::int64_t offset, const std::string& order_id,
                                       std::int32_t partition = 0) {
  kafka::consumed_message m;
  m.topic = saga_topic;
  m.partition = partition;
  m.offset = offset;
  m.key = order_id;
  m.value = R"({"event_id":")" + event_id_of(offset)
            + R"(","event_type":"INVENTORY_RESERVED","occurred_at":"2026-01-01T00:00:00.000Z",)"
            + R"("schema_version":1,"payload":{"order_id":")" + order_id + R"("}})";
  return m;
}

/// The `n`-th order id (from 0) whose shard among `count` is `shard`.
inline std::string order_in_shard(int shard, int count, int n = 0) {
  for (int i = 0;; ++i) {
    auto digits = std::to_string(i);
    auto id = "0b7f3c5e-8d2a-4f61-9c3e-" + std::string(12 - digits.size(), '0') + digits;
    if (shard_of(id, count) == shard && n-- == 0)
      return id;
  }
}

inline event_reply answer_of(event_status s) {
  return {s, order_status::reserved};
}

struct consumer_fixture : caf_fixture {
  std::shared_ptr<stub_kafka> kafka = std::make_shared<stub_kafka>();
  std::shared_ptr<stub_orders> orders = std::make_shared<stub_orders>();
  std::shared_ptr<shard_ownership> ownership = std::make_shared<shard_ownership>();
  std::shared_ptr<std::vector<ownership_test>> releases =
    std::make_shared<std::vector<ownership_test>>();
  metrics_registry metrics;
  consumer_settings settings;
  order_api registry;
  caf::actor consumer;

  /// The consumer owns `shards` of as many, with `base` settings.
  explicit consumer_fixture(std::vector<int> shards = {0}, consumer_settings base = {})
    : settings(std::move(base)) {
    settings.request_timeout = std::chrono::hours{24}; // answers come when the test says
    registry = keep(spawn_stub_registry(sys, orders, ownership));
    shard_ports ports{ownership, keep(spawn_stub_release(sys, releases))};
    auto owned = shards.size();
    consumer = keep(spawn_saga_consumer_on_ports(
      sys, settings, registry, ports, stub_ports(kafka, std::move(shards), settings.poll_wait),
      metrics));
    run(); // the first step: clients made, the shards owned, their partitions added
    BOOST_REQUIRE(kafka->clients.size() == 1u);
    BOOST_REQUIRE(kafka->clients.back()->added.size() == owned * settings.topics.size());
  }

  /// The consumer goes before `metrics` does (its counters live there).
  ~consumer_fixture() { stop(); }

  /// Stops the consumer as the service does at exit (it leaves the shards' group).
  void stop() {
    caf::anon_send_exit(consumer, caf::exit_reason::user_shutdown);
    run();
  }

  /// The next consume steps read `m` from the current data client.
  void deliver(kafka::consumed_message m) {
    kafka->clients.back()->script.push_back(std::move(m));
    advance(settings.poll_wait);
  }

  /// The orders answer their i-th request.
  void answer(std::size_t i, event_status s) {
    BOOST_REQUIRE(i < orders->requests.size());
    caf::anon_send(caf::actor_cast<caf::actor>(registry), answer_atom::value, i, answer_of(s));
    run();
  }

  /// Lets a commit round come; returns `p`'s committed position afterwards.
  std::int64_t committed_after_a_round(const partition_id& p = {saga_topic, 0}) {
    advance(settings.commit_interval);
    return kafka->committed(p);
  }

  std::uint64_t count(const char* name, const metric_labels& labels = {}) {
    return metrics.get_counter(name, "", labels).value();
  }

  std::string event_sent(std::size_t i) const { return orders->requests.at(i).event.event_id; }
};

} // namespace flashsale::test
