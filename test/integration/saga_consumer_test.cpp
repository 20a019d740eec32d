// The saga consumer's flow control against the embedded broker: with small bounds it
// pauses and resumes consumption many times, and every event still reaches the
// registry once, in order per order, with never more than max_dispatched at once.
// The registry is a stand-in actor that answers after a short delay (the consumer
// is what is tested here; the order actors have tests of their own).

#include "actors/cluster/shard_ownership.hpp"
#include "actors/saga/kafka_consumer.hpp"
#include "actors/protocol.hpp"
#include "actors/stop.hpp"
#include "kafka/producer.hpp"
#include "metrics/metrics.hpp"
#include "messages/uuid.hpp"
#include "test_db.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace flashsale;
using namespace std::chrono_literals;

namespace {

/// What the stand-in registry saw; shared with the test thread.
struct seen_events {
  std::mutex mtx;
  std::map<std::string, std::vector<int>> per_order; // sequence numbers, in arrival order
  int outstanding = 0;
  int max_outstanding = 0;
  int total = 0;
};

using answer_atom = caf::atom_constant<caf::atom("ft_answer")>;

/// Answers each event 5 ms later (first in, first out), so that requests pile up at
/// the consumer's bounds.
caf::behavior stand_in_registry(caf::event_based_actor* self, std::shared_ptr<seen_events> seen,
                                std::string prefix) {
  auto waiting = std::make_shared<std::deque<caf::response_promise>>();
  return {
    [=](event_atom, const incoming_event& ev) -> caf::result<event_reply> {
      {
        std::lock_guard<std::mutex> lock{seen->mtx};
        ++seen->outstanding;
        seen->max_outstanding = std::max(seen->max_outstanding, seen->outstanding);
        if (ev.event_id.compare(0, prefix.size(), prefix) == 0) {
          seen->per_order[ev.order_id].push_back(std::stoi(ev.event_id.substr(24), nullptr, 16));
          ++seen->total;
        }
      }
      waiting->push_back(self->make_response_promise<event_reply>());
      self->delayed_send(self, 5ms, answer_atom::value);
      return waiting->back();
    },
    [](release_atom, const ownership_test&) {}, // shards revoked on leaving: nothing live here
    [=](answer_atom) {
      {
        std::lock_guard<std::mutex> lock{seen->mtx};
        --seen->outstanding;
      }
      auto rp = std::move(waiting->front());
      waiting->pop_front();
      rp.deliver(event_reply{event_status::applied, order_status::reserved});
    },
  };
}

std::string event_json(const std::string& event_id, const std::string& order_id) {
  return R"({"event_id":")" + event_id
         + R"(","event_type":"INVENTORY_RESERVED","occurred_at":"2026-11-24T00:00:00.000Z",)"
           R"("schema_version":1,"payload":{"order_id":")"
         + order_id
         + R"(","items":[{"item_id":"sku-1","quantity":1}],)"
           R"("reservation_expires_at":"2030-01-01T00:00:00.000Z"}})";
}

} // namespace

BOOST_AUTO_TEST_CASE(consumer_pauses_and_resumes_without_losing_or_reordering_events) {
  constexpr int orders = 40, per_order = 5;
  // Event ids of this run: a random 8-4-4-4 prefix, then the sequence number in hex.
  auto prefix = new_uuid().substr(0, 24);

  std::string error;
  kafka::producer_settings ps;
  ps.brokers = test::kafka_brokers();
  auto producer = kafka::producer::create(
    ps, [](const kafka::delivery_report&) {},
    [](kafka::log_severity, const std::string&, const std::string&) {}, error);
  BOOST_TEST_REQUIRE(static_cast<bool>(producer), error);
  std::vector<std::string> ids;
  for (int i = 0; i < orders; ++i)
    ids.push_back(new_uuid());
  int seq = 0;
  for (int round = 0; round < per_order; ++round)
    for (const auto& id : ids) {
      char tail[13];
      std::snprintf(tail, sizeof tail, "%012x", seq++);
      auto refused = producer->produce(topics::inventory_events, id,
                                       event_json(prefix + tail, id), {}, 0);
      BOOST_TEST_REQUIRE(!refused.has_value());
    }
  BOOST_TEST_REQUIRE(producer->flush(10s) == 0);

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  metrics_registry metrics;
  auto seen = std::make_shared<seen_events>();
  auto registry = sys.spawn(stand_in_registry, seen, prefix);
  consumer_settings s;
  s.kafka_brokers = test::kafka_brokers();
  s.group_id = "consumer-test-" + std::to_string(::getpid()) + "-" + prefix.substr(0, 8);
  s.topics = {topics::inventory_events};
  s.max_in_flight = 8; // pauses at 8 consumed and unanswered, resumes at 4
  s.max_dispatched = 3;
  s.database_url = test::fresh_database(); // the shards' epochs
  s.node_id = "consumer-test";
  auto ownership = std::make_shared<shard_ownership>();
  // The stand-in speaks only the event and release parts of the registry's protocol.
  auto consumer =
    spawn_kafka_consumer(sys, s, caf::actor_cast<order_api>(registry),
                         {ownership, caf::actor_cast<release_api>(registry)}, metrics);

  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto total = [&] {
    std::lock_guard<std::mutex> lock{seen->mtx};
    return seen->total;
  };
  while (total() < orders * per_order && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  // Read before leaving: leaving revokes the shards, one more rebalance.
  auto rebalances = metrics.get_counter("saga_consumer_rebalances_total", "").value();
  stop_and_wait(sys, consumer);
  caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);

  // One assignment and nothing else: every event exactly once. A broker may also
  // revoke and reassign mid-run (seen on a fresh Apache Kafka while its group
  // coordinator settles); the events not yet committed are then delivered again from
  // the committed offset — at-least-once, made harmless by the inbox — but never lost
  // and, counting first deliveries, never out of order.
  std::lock_guard<std::mutex> lock{seen->mtx};
  BOOST_TEST(rebalances >= 1u);
  BOOST_TEST(seen->total >= orders * per_order, "rebalances: " << rebalances);
  if (rebalances == 1)
    BOOST_TEST(seen->total == orders * per_order); // each once: no loss, no repeat
  BOOST_TEST(seen->per_order.size() == static_cast<std::size_t>(orders));
  for (const auto& [id, seqs] : seen->per_order) {
    std::vector<int> first; // first deliveries, in arrival order
    for (auto n : seqs)
      if (std::find(first.begin(), first.end(), n) == first.end())
        first.push_back(n);
    BOOST_TEST(first.size() == static_cast<std::size_t>(per_order), id);
    for (std::size_t i = 1; i < first.size(); ++i)
      BOOST_TEST(first[i - 1] < first[i], id << " out of order at " << i);
    if (rebalances == 1)
      BOOST_TEST(seqs.size() == first.size(), id << " delivered twice without a rebalance");
  }
  BOOST_TEST(seen->max_outstanding <= 3);
  BOOST_TEST(ownership->owned_count() == 0u); // every shard released on leaving
  BOOST_TEST(seen->max_outstanding >= 2); // the bound was reached, not merely respected
}
