#include "actors/saga/offset_tracker.hpp"

#include <boost/test/unit_test.hpp>

using namespace flashsale;

namespace {

const partition_id p0{"inventory.v1.events", 0};
const partition_id p1{"payment.v1.events", 1};

auto everything = [](const partition_id&) { return true; };

std::int64_t committable_of(const offset_tracker& t, const partition_id& p) {
  for (const auto& [id, pos] : t.committable(everything))
    if (id == p)
      return pos;
  return -2; // nothing to commit
}

} // namespace

BOOST_AUTO_TEST_SUITE(offset_tracker_suite)

BOOST_AUTO_TEST_CASE(nothing_is_committable_before_a_message) {
  offset_tracker t;
  t.assign(p0);
  BOOST_TEST(t.committable(everything).empty());
  BOOST_TEST(t.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(messages_of_unassigned_partitions_are_not_tracked) {
  offset_tracker t;
  BOOST_TEST(!t.consumed(p0, 5));
  t.assign(p0);
  BOOST_TEST(!t.consumed(p1, 5));
  BOOST_TEST(t.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(the_position_is_the_lowest_pending_offset) {
  offset_tracker t;
  t.assign(p0);
  auto a = t.consumed(p0, 10);
  auto b = t.consumed(p0, 11);
  auto c = t.consumed(p0, 12);
  BOOST_REQUIRE(a && b && c);
  BOOST_TEST(t.in_flight() == 3u);
  BOOST_TEST(committable_of(t, p0) == 10);
  // Out of order: 12 and 11 done first; 10 still holds the position.
  BOOST_TEST(t.done(*c));
  BOOST_TEST(t.done(*b));
  BOOST_TEST(committable_of(t, p0) == 10);
  BOOST_TEST(t.done(*a));
  BOOST_TEST(committable_of(t, p0) == 13); // one past the highest consumed
  BOOST_TEST(t.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(a_commit_is_asked_for_only_when_the_position_moved) {
  offset_tracker t;
  t.assign(p0);
  auto a = t.consumed(p0, 0);
  BOOST_REQUIRE(a);
  t.done(*a);
  BOOST_TEST(committable_of(t, p0) == 1);
  t.committed(p0, 1);
  BOOST_TEST(t.committable(everything).empty());
  t.consumed(p0, 1);
  BOOST_TEST(t.committable(everything).empty()); // 1 pending: still at 1
}

BOOST_AUTO_TEST_CASE(a_duplicate_offset_is_pending_once) {
  offset_tracker t;
  t.assign(p0);
  BOOST_TEST(t.consumed(p0, 7).has_value());
  BOOST_TEST(!t.consumed(p0, 7).has_value());
  BOOST_TEST(t.in_flight() == 1u);
}

BOOST_AUTO_TEST_CASE(done_twice_counts_once) {
  offset_tracker t;
  t.assign(p0);
  auto a = t.consumed(p0, 3);
  BOOST_TEST(t.done(*a));
  BOOST_TEST(!t.done(*a));
  BOOST_TEST(t.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(a_revoked_partition_forgets_its_pending_offsets) {
  offset_tracker t;
  t.assign(p0);
  t.assign(p1);
  auto a = t.consumed(p0, 1);
  auto b = t.consumed(p1, 1);
  BOOST_TEST(t.in_flight() == 2u);
  t.revoke(p0);
  BOOST_TEST(t.in_flight() == 1u);
  BOOST_TEST(!t.is_current(*a));
  BOOST_TEST(t.is_current(*b));
  BOOST_TEST(!t.done(*a));
  BOOST_TEST(committable_of(t, p0) == -2);
}

BOOST_AUTO_TEST_CASE(a_reference_of_an_earlier_assignment_is_stale) {
  offset_tracker t;
  t.assign(p0);
  auto old = t.consumed(p0, 4);
  t.revoke(p0);
  t.assign(p0);
  auto fresh = t.consumed(p0, 4);
  BOOST_REQUIRE(old && fresh);
  BOOST_TEST(!t.is_current(*old));
  BOOST_TEST(!t.done(*old)); // the old answer must not free the new message
  BOOST_TEST(t.in_flight() == 1u);
  BOOST_TEST(t.done(*fresh));
}

BOOST_AUTO_TEST_CASE(assigning_again_without_revoke_does_not_leak_in_flight) {
  offset_tracker t;
  t.assign(p0);
  t.consumed(p0, 1);
  t.assign(p0);
  BOOST_TEST(t.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(committable_filters_by_partition) {
  offset_tracker t;
  t.assign(p0);
  t.assign(p1);
  t.done(*t.consumed(p0, 0));
  t.done(*t.consumed(p1, 0));
  auto only_p1 = t.committable([](const partition_id& id) { return id == p1; });
  BOOST_REQUIRE_EQUAL(only_p1.size(), 1u);
  BOOST_TEST(only_p1[0].first.first == p1.first);
  BOOST_TEST(only_p1[0].second == 1);
}

BOOST_AUTO_TEST_SUITE_END()
