// The saga consumer actor across the shards' hand-overs that saga_consumer_revoke_test.cpp
// leaves out: the group giving a shard back after a lost session (a new epoch, the shard
// read again from its committed offset), the stop that finds shards the shards' client
// never revoked (leave_shards_group's fallback, shard_membership.hpp), and a revoke while
// consumption is paused at the in-flight bound. The stub membership hands scripted
// rebalances to the service's own handlers and takes epochs through the membership port
// (saga_membership::take_epoch); deterministic, like saga_consumer_test.cpp.
#include "test/actor/saga_consumer_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace flashsale;
using namespace flashsale::test;

namespace {

constexpr int shard_count = 2;
const partition_id p0{saga_topic, 0}; // shard 0's inventory partition
const partition_id q1{saga_topic, 1}; // shard 1's
const std::string order_x = order_in_shard(0, shard_count);    // A (10) and B (11), on p0
const std::string order_z = order_in_shard(0, shard_count, 1); // on p0
const std::string order_w = order_in_shard(0, shard_count, 2); // on p0
const std::string order_y = order_in_shard(1, shard_count);    // on q1
const std::string order_v = order_in_shard(1, shard_count, 1); // on q1

struct two_shards : consumer_fixture {
  explicit two_shards(consumer_settings base = {}) : consumer_fixture({0, 1}, std::move(base)) {}

  /// One consume step, which serves the rebalances scripted in `kafka`.
  void step() {
    advance(settings.poll_wait);
    BOOST_REQUIRE(kafka->revokes.empty());
    BOOST_REQUIRE(kafka->assigns.empty());
  }

  std::size_t commits_of(const partition_id& p) const {
    auto i = kafka->commits.find(p);
    return i == kafka->commits.end() ? 0 : i->second.size();
  }

  /// Z's event (9 of p0) and Y's (50 of q1) are handled and no commit round has come
  /// since; A (10 of p0, order X) is out at the orders and B (11) waits behind it.
  void handle_z_and_y_with_a_out() {
    kafka->clients.back()->script = {message(9, order_z, 0), message(10, order_x, 0),
                                     message(11, order_x, 0), message(50, order_y, 1)};
    advance(settings.poll_wait);
    BOOST_REQUIRE(orders->requests.size() == 3u); // Z's, A, Y's; B waits for A
    BOOST_REQUIRE(event_sent(1) == event_id_of(10));
    answer(0, event_status::applied);
    answer(2, event_status::applied);
    BOOST_REQUIRE(kafka->committed(p0) < 10);
    BOOST_REQUIRE(kafka->committed(q1) < 51);
  }
};

consumer_settings in_flight_bound(std::size_t max_in_flight) {
  consumer_settings s;
  s.max_in_flight = max_in_flight;
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_consumer_handover_suite)

/// The session is lost with A out (librdkafka revokes the whole assignment as lost),
/// then the group gives shard 0 back and shard 1 to another member. Shard 0 gets a new
/// epoch before it is read again from its committed offset; the old session's answer to
/// A neither completes A's copy nor moves a commit, and the copy goes to its order under
/// the new epoch.
BOOST_FIXTURE_TEST_CASE(a_shard_given_back_after_a_lost_session_is_read_again_under_a_new_epoch,
                        two_shards) {
  kafka->clients.back()->script = {message(9, order_z, 0), message(10, order_x, 0),
                                   message(11, order_x, 0), message(50, order_y, 1)};
  advance(settings.poll_wait);
  BOOST_REQUIRE(orders->requests.size() == 3u); // Z's, A, Y's; B waits for A
  BOOST_REQUIRE(event_sent(1) == event_id_of(10));
  BOOST_REQUIRE(orders->requests[1].fence.has_value());
  BOOST_TEST(orders->requests[1].fence->epoch == 1);
  answer(0, event_status::applied);
  BOOST_REQUIRE(committed_after_a_round(p0) == 10); // up to A
  auto q_commits = commits_of(q1);

  kafka->revokes.push_back({{0, 1}, true});
  step();
  BOOST_TEST(kafka->committed(p0) == 10);
  BOOST_TEST(commits_of(q1) == q_commits);
  BOOST_TEST(ownership->owned() == (std::vector<int>{0, 1})); // kept under epoch 1
  BOOST_REQUIRE(ownership->fence_of_shard(0).has_value());
  BOOST_TEST(ownership->fence_of_shard(0)->epoch == 1);
  BOOST_TEST(kafka->epochs.empty());

  auto added_before = kafka->clients.back()->added.size();
  kafka->assigns.push_back({0});
  step();
  BOOST_REQUIRE(kafka->epochs.size() == 1u);
  BOOST_TEST(kafka->epochs[0].shard == 0);
  BOOST_TEST(kafka->epochs[0].added_before == added_before); // the epoch first, then reading
  BOOST_REQUIRE(ownership->fence_of_shard(0).has_value());
  BOOST_TEST(ownership->fence_of_shard(0)->epoch == kafka->epochs[0].epoch);
  BOOST_TEST(kafka->epochs[0].epoch == 2);
  BOOST_TEST(count("cluster_shard_acquisitions_total") == 1u);
  BOOST_TEST(ownership->owned() == std::vector<int>{0});
  BOOST_REQUIRE(releases->size() == 1u); // shard 1's actors go, shard 0's stay
  BOOST_TEST(!releases->front()(order_y));
  BOOST_TEST(releases->front()(order_x));
  const auto& added = kafka->clients.back()->added;
  BOOST_REQUIRE(added.size() == added_before + settings.topics.size());
  for (auto i = added_before; i < added.size(); ++i) {
    BOOST_TEST(added[i].partition == 0);
    BOOST_TEST(added[i].offset == kafka::committed_offset);
  }

  // Read again from the committed 10: A's copy waits for the old A still out.
  deliver(message(10, order_x, 0));
  deliver(message(11, order_x, 0));
  BOOST_TEST(orders->requests.size() == 3u);
  answer(1, event_status::applied); // the old session's A
  BOOST_REQUIRE(orders->requests.size() == 4u); // now the copy goes, once
  BOOST_TEST(event_sent(3) == event_id_of(10));
  BOOST_REQUIRE(orders->requests[3].fence.has_value());
  BOOST_TEST(orders->requests[3].fence->epoch == 2);
  BOOST_TEST(count("saga_event_stale_answers_total") == 0u);
  BOOST_TEST(count("saga_event_retries_total") == 0u);
  BOOST_TEST(committed_after_a_round(p0) == 10); // the old answer did not count for the copy
  answer(2, event_status::applied); // Y's, of the old session: shard 1 is not ours now
  BOOST_TEST(committed_after_a_round(p0) == 10);
  BOOST_TEST(commits_of(q1) == q_commits);

  answer(3, event_status::applied); // the copy's own answer: B's copy goes
  BOOST_REQUIRE(orders->requests.size() == 5u);
  BOOST_TEST(event_sent(4) == event_id_of(11));
  BOOST_TEST(committed_after_a_round(p0) == 11);
  answer(4, event_status::applied);
  BOOST_TEST(committed_after_a_round(p0) == 12);
  BOOST_TEST(count("saga_event_stale_answers_total") == 0u);
}

/// The stop, as librdkafka closes the shards' client: it revokes what it holds, so the
/// handled prefix of both shards is committed before they are released.
BOOST_FIXTURE_TEST_CASE(a_stop_whose_close_revokes_commits_the_handled_prefix, two_shards) {
  handle_z_and_y_with_a_out();
  stop();
  BOOST_TEST(kafka->committed(p0) == 10);
  BOOST_TEST(kafka->committed(q1) == 51);
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "revoked"}}) == 2u);
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "lost"}}) == 0u);
  BOOST_TEST(ownership->owned().empty());
  BOOST_TEST(kafka->clients.back()->closed);
}

/// A close librdkafka refused delivers no revoke: leave_shards_group revokes what is
/// still owned as lost (another member may hold it already), so nothing of it is
/// committed, and every shard is released and no longer read.
BOOST_FIXTURE_TEST_CASE(a_stop_without_a_revoke_releases_every_shard_and_commits_nothing,
                        two_shards) {
  handle_z_and_y_with_a_out();
  auto p_commits = commits_of(p0);
  auto q_commits = commits_of(q1);
  kafka->close_revokes = false;
  stop();
  BOOST_TEST(commits_of(p0) == p_commits);
  BOOST_TEST(commits_of(q1) == q_commits);
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "lost"}}) == 2u);
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "revoked"}}) == 0u);
  BOOST_TEST(ownership->owned().empty());
  BOOST_REQUIRE(releases->size() == 1u);
  BOOST_TEST(!releases->front()(order_x));
  BOOST_TEST(!releases->front()(order_y));
  const auto& client = *kafka->clients.back();
  BOOST_TEST(client.removed.size() == shard_count * settings.topics.size());
  BOOST_TEST(client.closed);
}

/// A stop after a lost session, before the group answered: the shards kept under their
/// epochs are no longer the client's, so its close revokes nothing; the fallback
/// releases them, with nothing committed after the loss.
BOOST_FIXTURE_TEST_CASE(a_stop_after_a_lost_session_releases_the_kept_shards, two_shards) {
  handle_z_and_y_with_a_out();
  kafka->revokes.push_back({{0, 1}, true});
  step();
  BOOST_REQUIRE(ownership->owned() == (std::vector<int>{0, 1}));
  BOOST_REQUIRE(releases->empty());
  auto p_commits = commits_of(p0);
  auto q_commits = commits_of(q1);
  stop();
  BOOST_TEST(commits_of(p0) == p_commits);
  BOOST_TEST(commits_of(q1) == q_commits);
  BOOST_TEST(ownership->owned().empty());
  BOOST_REQUIRE(releases->size() == 1u);
  BOOST_TEST(!releases->front()(order_x));
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "revoked"}}) == 0u);
  // Each shard was lost once (the session); the stop only releases what was kept.
  BOOST_TEST(count("cluster_shards_revoked_total", {{"how", "lost"}}) == 2u);
  // Their partitions went at the loss: the stop does not ask librdkafka to drop them again.
  BOOST_TEST(kafka->clients.back()->refused.empty());
  BOOST_TEST(kafka->clients.back()->closed);
}

namespace {

/// Shard 0's three events and Y's (q1) fill the in-flight bound of 4: consumption pauses
/// with V's (51 of q1) still unread. The group taking shard 0 frees its three slots
/// (its requests are still out), so consumption resumes and shard 1 goes on.
void revoke_while_paused(two_shards& f) {
  BOOST_REQUIRE(f.settings.max_in_flight == 4u);
  f.kafka->clients.back()->script = {message(10, order_x, 0), message(11, order_z, 0),
                                     message(12, order_w, 0), message(50, order_y, 1),
                                     message(51, order_v, 1)};
  f.advance(f.settings.poll_wait);
  BOOST_REQUIRE(f.orders->requests.size() == 4u);
  BOOST_TEST(f.count("saga_consumer_pauses_total") == 1u);
  BOOST_TEST(f.kafka->clients.back()->paused);
  f.advance(f.settings.poll_wait * 5); // the gate stays closed: V's is not read
  BOOST_TEST(f.orders->requests.size() == 4u);
  BOOST_TEST(f.kafka->clients.back()->script.size() == 1u);

  f.kafka->revokes.push_back({{0}, false});
  f.step();
  f.advance(f.settings.poll_wait);
  BOOST_TEST(!f.kafka->clients.back()->paused);
  BOOST_REQUIRE(f.orders->requests.size() == 5u);
  BOOST_TEST(f.event_sent(4) == event_id_of(51));
  BOOST_TEST(f.kafka->clients.back()->script.empty());
  BOOST_TEST(f.count("saga_consumer_pauses_total") == 1u);

  f.answer(3, event_status::applied);
  f.answer(4, event_status::applied);
  BOOST_TEST(f.committed_after_a_round(q1) == 52);
  f.deliver(message(52, order_y, 1)); // and it keeps reading
  BOOST_REQUIRE(f.orders->requests.size() == 6u);
  BOOST_TEST(f.event_sent(5) == event_id_of(52));
}

struct two_shards_bound_4 : two_shards {
  two_shards_bound_4() : two_shards(in_flight_bound(4)) {}
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_revoke_while_paused_at_the_bound_resumes_the_other_shard,
                        two_shards_bound_4) {
  revoke_while_paused(*this);
}

BOOST_AUTO_TEST_SUITE_END()
