// The saga consumer actor while PostgreSQL will not give a shard its epoch: the group
// gives shard 0 back and the stub membership's take_epoch (saga_membership) throws for it
// a few times, as persistence::acquire_shard does while the database is down. The shard
// stays pending (shard_handoff.hpp) and each step tries again (retry_pending, called by
// poll_membership and by the stub's poll); until its epoch is taken it is not owned, not
// read, no create is minted in it and nothing of it is dispatched, while shard 1 goes on.
// A shard the group takes back while pending is dropped: never acquired afterwards, and
// never unassigned from the data client, which never had it (librdkafka refuses the
// whole unassign then). Deterministic, like saga_consumer_handover_test.cpp.
#include "test/actor/saga_consumer_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace flashsale;
using namespace flashsale::test;

namespace {

constexpr int shard_count = 2;
constexpr int refusals = 6; // take_epoch's failures for shard 0 before it answers
const partition_id p0{saga_topic, 0}; // shard 0's inventory partition
const partition_id q1{saga_topic, 1}; // shard 1's
const std::string order_x = order_in_shard(0, shard_count);    // on p0
const std::string order_y = order_in_shard(1, shard_count);    // on q1
const std::string order_v = order_in_shard(1, shard_count, 1); // on q1

struct shard_0_given_back : consumer_fixture {
  shard_0_given_back() : consumer_fixture({0, 1}) {}

  /// One consume step, which serves the rebalances scripted in `kafka`.
  void step() {
    advance(settings.poll_wait);
    BOOST_REQUIRE(kafka->revokes.empty());
    BOOST_REQUIRE(kafka->assigns.empty());
  }

  /// A create minted in shard 0 (every candidate id is of shard 0): its fence, if any.
  std::optional<shard_fence> minted_in_shard_0() const {
    int n = 0;
    auto got = ownership->mint([&n] { return order_in_shard(0, shard_count, n++ % 8); });
    if (!got)
      return std::nullopt;
    BOOST_TEST(got->second.shard == 0);
    return got->second;
  }

  /// Shard 0 waits for its epoch: not owned, not minted in, not read, not counted.
  void expect_shard_0_pending() {
    BOOST_TEST(ownership->owned() == std::vector<int>{1});
    BOOST_TEST(!ownership->fence_of_shard(0).has_value());
    BOOST_TEST(!minted_in_shard_0().has_value());
    BOOST_TEST(kafka->clients.back()->assigned.count(p0) == 0);
    BOOST_TEST(kafka->epochs.empty());
    BOOST_TEST(count("cluster_shard_acquisitions_total") == 0u);
  }

  std::size_t added_of(int partition) const {
    std::size_t n = 0;
    for (const auto& tp : kafka->clients.back()->added)
      n += tp.partition == partition ? 1 : 0;
    return n;
  }

  /// Shard 0 handled up to 10 and committed, then revoked and given back while the
  /// database refuses its epoch `times` times: the give-back's step tries once.
  void give_back_shard_0_refusing(int times) {
    kafka->clients.back()->script = {message(9, order_x, 0)};
    advance(settings.poll_wait);
    BOOST_REQUIRE(orders->requests.size() == 1u);
    answer(0, event_status::applied);
    BOOST_REQUIRE(committed_after_a_round(p0) == 10);
    kafka->revokes.push_back({{0}, false});
    step();
    BOOST_REQUIRE(ownership->owned() == std::vector<int>{1});
    BOOST_REQUIRE(kafka->clients.back()->assigned.count(p0) == 0);
    kafka->epoch_refusals[0] = times;
    kafka->assigns.push_back({0});
    step();
    BOOST_TEST_REQUIRE(kafka->epoch_attempts.size() == 1u);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(saga_consumer_epoch_retry_suite)

/// Refused six times, taken at the seventh attempt: until then shard 0 is neither owned
/// nor read nor minted in, a message of it that came anyway is not dispatched, and shard
/// 1 is read and committed as before; then shard 0 is owned under the new epoch, read
/// from its committed offset, and its events go out under that epoch, counted once.
BOOST_FIXTURE_TEST_CASE(a_shard_whose_epoch_is_refused_is_read_only_once_it_is_taken,
                        shard_0_given_back) {
  give_back_shard_0_refusing(refusals);
  auto added_before = kafka->clients.back()->added.size();
  expect_shard_0_pending();
  // A message of p0 fetched before the revoke, and shard 1's next events.
  kafka->clients.back()->script = {message(10, order_x, 0), message(50, order_y, 1),
                                   message(51, order_v, 1)};
  step(); // tries again (and once more in the step right after, messages came), refused
  BOOST_REQUIRE(kafka->epoch_attempts.size() > 1u);
  expect_shard_0_pending();
  // Shard 1 went on: its two events out under its epoch 1, nothing of shard 0.
  BOOST_REQUIRE(orders->requests.size() == 3u);
  for (std::size_t i = 1; i < 3; ++i) {
    BOOST_TEST(orders->requests[i].event.order_id != order_x);
    BOOST_REQUIRE(orders->requests[i].fence.has_value());
    BOOST_TEST(orders->requests[i].fence->shard == 1);
    BOOST_TEST(orders->requests[i].fence->epoch == 1);
  }
  answer(1, event_status::applied);
  answer(2, event_status::applied);
  BOOST_TEST(committed_after_a_round(q1) == 52);
  BOOST_REQUIRE(kafka->epoch_attempts.size() < std::size_t{refusals});
  for (int i = 0; i < refusals && kafka->epoch_attempts.size() < std::size_t{refusals}; ++i) {
    expect_shard_0_pending();
    step(); // refused again
  }
  BOOST_TEST(kafka->epoch_attempts == std::vector<int>(refusals, 0));
  expect_shard_0_pending();
  BOOST_TEST(orders->requests.size() == 3u);
  BOOST_TEST(kafka->committed(p0) == 10);

  step(); // the next attempt: the database answers
  BOOST_REQUIRE(kafka->epochs.size() == 1u);
  BOOST_TEST(kafka->epochs[0].shard == 0);
  BOOST_TEST(kafka->epochs[0].added_before == added_before); // the epoch first, then reading
  BOOST_REQUIRE(ownership->fence_of_shard(0).has_value());
  BOOST_TEST(ownership->fence_of_shard(0)->epoch == kafka->epochs[0].epoch);
  BOOST_TEST(ownership->owned() == (std::vector<int>{0, 1}));
  auto minted = minted_in_shard_0();
  BOOST_REQUIRE(minted.has_value());
  BOOST_TEST(minted->epoch == kafka->epochs[0].epoch);
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 1u);
  const auto& added = kafka->clients.back()->added;
  BOOST_REQUIRE(added.size() == added_before + settings.topics.size());
  for (auto i = added_before; i < added.size(); ++i) {
    BOOST_TEST(added[i].partition == 0);
    BOOST_TEST(added[i].offset == kafka::committed_offset);
  }

  deliver(message(10, order_x, 0)); // read again from the committed 10
  BOOST_REQUIRE(orders->requests.size() == 4u);
  BOOST_TEST(event_sent(3) == event_id_of(10));
  BOOST_TEST(orders->requests[3].event.order_id == order_x);
  BOOST_REQUIRE(orders->requests[3].fence.has_value());
  BOOST_TEST(orders->requests[3].fence->epoch == kafka->epochs[0].epoch);
  answer(3, event_status::applied);
  BOOST_TEST(committed_after_a_round(p0) == 11);

  step(); // nothing pending: no more attempts, no second acquisition
  step();
  BOOST_TEST(kafka->epoch_attempts.size() == static_cast<std::size_t>(refusals + 1));
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 1u);
  BOOST_TEST(kafka->clients.back()->refused.empty());
}

/// The group takes shards 0 (pending) and 1 (read) back: shard 1's handled prefix is
/// committed and its partitions unassigned; shard 0's, never assigned to the data client,
/// are not asked for (librdkafka would refuse the whole call, shard 1's partitions
/// included). Shard 0 leaves pending: the database answering later acquires nothing;
/// only the group giving it again does.
BOOST_FIXTURE_TEST_CASE(a_shard_revoked_while_pending_is_dropped_and_never_acquired,
                        shard_0_given_back) {
  give_back_shard_0_refusing(1000);
  step();
  BOOST_REQUIRE(kafka->epoch_attempts.size() == 2u);
  deliver(message(50, order_y, 1));
  BOOST_REQUIRE(orders->requests.size() == 2u);
  answer(1, event_status::applied);
  auto added_before = kafka->clients.back()->added.size();

  kafka->revokes.push_back({{0, 1}, false});
  step();
  auto attempts = kafka->epoch_attempts.size();
  BOOST_TEST(kafka->clients.back()->refused.empty());
  BOOST_TEST(count("saga_consumer_client_errors_total", {{"op", "unassign"}}) == 0u);
  BOOST_TEST(kafka->clients.back()->assigned.empty()); // shard 1 no longer read
  BOOST_TEST(kafka->committed(q1) == 51);
  BOOST_TEST(ownership->owned().empty());
  // Shard 0 counted at its first revoke, shard 1 now; the pending shard 0 was not held.
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "revoked"}}) == 2u);

  kafka->epoch_refusals[0] = 0; // the database answers again
  for (int i = 0; i < 3; ++i)
    step();
  BOOST_TEST(kafka->epoch_attempts.size() == attempts); // not tried again
  BOOST_TEST(kafka->epochs.empty());
  BOOST_TEST(ownership->owned().empty());
  BOOST_TEST(!minted_in_shard_0().has_value());
  BOOST_TEST(kafka->clients.back()->added.size() == added_before);
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 0u);

  kafka->assigns.push_back({0}); // given again: taken at once, read once
  step();
  BOOST_REQUIRE(kafka->epochs.size() == 1u);
  BOOST_TEST(ownership->owned() == std::vector<int>{0});
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 1u);
  BOOST_TEST(added_of(0) == 2 * settings.topics.size()); // at the start, and now
  BOOST_TEST(kafka->clients.back()->refused.empty());
}

/// Both shards revoked and given back. A database that does not answer stops a step's
/// attempts at the first shard: the rest would only wait out the same timeout. A refusal
/// of one shard alone (its lock stays taken) does not hold up the shards after it.
BOOST_FIXTURE_TEST_CASE(a_shard_refused_alone_does_not_hold_up_the_others, shard_0_given_back) {
  kafka->revokes.push_back({{0, 1}, false});
  step();
  BOOST_REQUIRE(ownership->owned().empty());
  kafka->epoch_refusals[0] = 1; // the database does not answer: one attempt, shard 1 waits
  kafka->assigns.push_back({0, 1});
  step();
  BOOST_TEST(kafka->epoch_attempts == std::vector<int>{0});
  BOOST_TEST(ownership->owned().empty());

  kafka->epoch_busy[0] = 1000; // now the database answers, but shard 0's lock stays taken
  step();
  BOOST_TEST(kafka->epoch_attempts == (std::vector<int>{0, 0, 1}));
  BOOST_REQUIRE(kafka->epochs.size() == 1u);
  BOOST_TEST(kafka->epochs[0].shard == 1);
  BOOST_TEST(ownership->owned() == std::vector<int>{1});
  BOOST_TEST(added_of(1) == 2 * settings.topics.size()); // at the start, and now
  BOOST_TEST(added_of(0) == settings.topics.size());     // at the start only
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 1u);

  kafka->epoch_busy[0] = 0; // the lock is free: shard 0 taken at the next step
  step();
  BOOST_TEST(ownership->owned() == (std::vector<int>{0, 1}));
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 2u);
  BOOST_TEST(kafka->clients.back()->refused.empty());
}

BOOST_AUTO_TEST_SUITE_END()
