// The saga consumer actor when the shards' group takes shards away (issue 17's
// follow-up): the stub membership hands a scripted revoke to the service's own handler
// (on_shards_revoked, shard_membership.hpp), as the shards' client does inside its
// consume(). A request out, its successor waiting and a DLQ copy unacknowledged at that
// moment; a clean revoke commits the shard's handled prefix, a lost session commits
// nothing; the other shard goes on. Deterministic, like saga_consumer_test.cpp.
#include "test/actor/saga_consumer_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

using namespace flashsale;
using namespace flashsale::test;

namespace {

constexpr int shard_count = 2;
const partition_id p0{saga_topic, 0}; // shard 0's inventory partition: the group takes it
const partition_id q1{saga_topic, 1}; // shard 1's: stays here
const std::string order_x = order_in_shard(0, shard_count);    // A and B, on p0
const std::string order_z = order_in_shard(0, shard_count, 1); // handled before A, on p0
const std::string order_y = order_in_shard(1, shard_count);    // on q1

struct two_shards : consumer_fixture {
  two_shards() : consumer_fixture({0, 1}) {}

  /// The shards' group takes `shard` (lost: this member's session expired) at the next
  /// consume step.
  void revoke(int shard, bool lost) {
    kafka->revokes.push_back({{shard}, lost});
    advance(settings.poll_wait);
    BOOST_REQUIRE(kafka->revokes.empty());
  }

  /// Commits of `p` so far.
  std::size_t commits_of(const partition_id& p) const {
    auto i = kafka->commits.find(p);
    return i == kafka->commits.end() ? 0 : i->second.size();
  }

  /// Shard 0's saga partitions (one a topic) were taken from the data client.
  void check_shard0_no_longer_read() {
    const auto& removed = kafka->clients.back()->removed;
    BOOST_TEST(removed.size() == settings.topics.size());
    for (const auto& tp : removed)
      BOOST_TEST(tp.partition == 0);
  }
};

/// Order X's event A (offset 10 of p0) is out at the orders and its successor B (11)
/// waits behind it, Z's event (9) is done and Y's (50 of q1) is out, when the group
/// takes shard 0. A's answer (`late`) comes after that.
void take_shard0_while_a_request_is_out(two_shards& f, bool lost, event_status late) {
  f.kafka->clients.back()->script = {message(9, order_z, 0), message(10, order_x, 0),
                                     message(11, order_x, 0), message(50, order_y, 1)};
  f.advance(f.settings.poll_wait);
  BOOST_REQUIRE(f.orders->requests.size() == 3u); // Z's, A, Y's; B waits for A
  BOOST_REQUIRE(f.event_sent(1) == event_id_of(10));
  f.answer(0, event_status::applied); // p0's handled prefix now ends at A
  BOOST_REQUIRE(f.kafka->committed(p0) < 10); // no commit round since: the revoke's own
  auto p_commits = f.commits_of(p0);

  f.revoke(0, lost);
  if (lost) {
    BOOST_TEST(f.commits_of(p0) == p_commits); // another member may own p0 already
    BOOST_TEST(f.count("cluster_shards_revoked_total", {{"how", "lost"}}) == 1u);
    // Kept under its epoch until the group answers again (shard_handoff.hpp): no release.
    BOOST_TEST(f.ownership->owned() == (std::vector<int>{0, 1}));
    BOOST_TEST(f.releases->empty());
  } else {
    BOOST_TEST(f.commits_of(p0) == p_commits + 1);
    BOOST_TEST(f.kafka->committed(p0) == 10); // up to A, not past it
    BOOST_TEST(f.count("cluster_shards_revoked_total", {{"how", "revoked"}}) == 1u);
    BOOST_TEST(f.ownership->owned() == std::vector<int>{1});
    BOOST_REQUIRE(f.releases->size() == 1u);
    BOOST_TEST(!f.releases->front()(order_x)); // shard 0's actors go
    BOOST_TEST(f.releases->front()(order_y));  // shard 1's stay
  }
  BOOST_TEST(f.count("saga_consumer_rebalances_total") == 1u);
  f.check_shard0_no_longer_read();
  p_commits = f.commits_of(p0);

  f.answer(1, late); // A's answer, after p0 went: its offset is not done here
  BOOST_TEST(f.orders->requests.size() == 3u); // B was dropped with p0: not sent
  f.advance(f.settings.retry_max); // a retry armed by mistake fires by now; many rounds
  BOOST_TEST(f.orders->requests.size() == 3u);
  BOOST_TEST(f.count("saga_event_retries_total") == 0u);
  // It answers its own request (not stale); an applied one counts as handled (the order
  // did apply it), with no offset done: whoever owns p0 reads A again.
  BOOST_TEST(f.count("saga_event_stale_answers_total") == 0u);
  BOOST_TEST(f.count("saga_events_handled_total", {{"outcome", "applied"}})
             == (late == event_status::applied ? 2u : 1u));
  BOOST_TEST(f.commits_of(p0) == p_commits);

  // Shard 1 goes on: Y's answer commits, and what comes next is read, sent, committed.
  f.answer(2, event_status::applied);
  BOOST_TEST(f.committed_after_a_round(q1) == 51);
  f.deliver(message(51, order_y, 1));
  BOOST_REQUIRE(f.orders->requests.size() == 4u);
  BOOST_TEST(f.event_sent(3) == event_id_of(51));
  f.answer(3, event_status::applied);
  BOOST_TEST(f.committed_after_a_round(q1) == 52);
  BOOST_TEST(f.commits_of(p0) == p_commits);
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_consumer_revoke_suite)

BOOST_FIXTURE_TEST_CASE(a_revoke_commits_up_to_the_request_out_and_its_late_answer_is_ignored,
                        two_shards) {
  take_shard0_while_a_request_is_out(*this, false, event_status::applied);
}

BOOST_FIXTURE_TEST_CASE(a_late_failed_answer_after_a_revoke_is_not_retried, two_shards) {
  take_shard0_while_a_request_is_out(*this, false, event_status::failed);
}

BOOST_FIXTURE_TEST_CASE(lost_shards_commit_nothing_and_stay_owned_until_the_group_answers,
                        two_shards) {
  take_shard0_while_a_request_is_out(*this, true, event_status::applied);
}

/// Poison of p0 and of q1 copied to the DLQ, neither acknowledged, when the group takes
/// shard 0: the writer forgets p0's copy, and its report, should it come anyway (a copy
/// librdkafka had produced already), changes nothing.
BOOST_FIXTURE_TEST_CASE(an_unacknowledged_dlq_copy_of_a_revoked_shard_is_forgotten,
                        two_shards) {
  auto poison_p = message(30, order_x, 0);
  auto poison_q = message(60, order_y, 1);
  poison_p.value = poison_q.value = "{not json";
  kafka->clients.back()->script = {poison_p, poison_q};
  advance(settings.poll_wait);
  BOOST_REQUIRE(kafka->dlq.size() == 2u); // tokens 1 (p0) and 2 (q1)
  BOOST_REQUIRE(kafka->committed(p0) < 31);

  revoke(0, false);
  BOOST_TEST(kafka->dlq_forgotten == std::set<std::uint64_t>{1}); // p0's copy only
  BOOST_TEST(kafka->committed(p0) == 30); // not past the copy
  auto p_commits = commits_of(p0);

  kafka->dlq_acks = {1, 2};
  BOOST_TEST(committed_after_a_round(q1) == 61);
  BOOST_TEST(count("saga_events_dlq_total") == 1u); // q1's copy only
  BOOST_TEST(commits_of(p0) == p_commits);
  BOOST_TEST(kafka->committed(p0) == 30);
}

BOOST_AUTO_TEST_SUITE_END()
