#include "actors/saga/shard_handoff.hpp"

#include <boost/test/unit_test.hpp>

using namespace flashsale;

namespace {
auto owned(std::set<int> s) {
  return [s](int x) { return s.count(x) > 0; };
}
} // namespace

BOOST_AUTO_TEST_SUITE(shard_handoff_suite)

BOOST_AUTO_TEST_CASE(given_shards_wait_for_their_epoch) {
  shard_handoff h;
  BOOST_TEST(h.assigned({1, 4}).empty());
  BOOST_TEST((h.pending() == std::set<int>{1, 4}));
  h.acquired(1);
  BOOST_TEST((h.pending() == std::set<int>{4}));
}

BOOST_AUTO_TEST_CASE(a_clean_revoke_releases_at_once) {
  shard_handoff h;
  h.assigned({1, 4});
  h.acquired(1);
  h.acquired(4);
  BOOST_TEST((h.revoked({4}, false, false, owned({1, 4})) == std::vector<int>{4}));
  BOOST_TEST(h.lost().empty());
}

// A broker outage times the session out: the shards are kept (creates go on under
// their epochs) until the group answers; then what it did not give back goes.
BOOST_AUTO_TEST_CASE(lost_shards_are_kept_until_the_group_answers) {
  shard_handoff h;
  h.assigned({1, 4, 6});
  for (int s : {1, 4, 6})
    h.acquired(s);
  BOOST_TEST(h.revoked({1, 4, 6}, true, false, owned({1, 4, 6})).empty());
  BOOST_TEST((h.lost() == std::set<int>{1, 4, 6}));
  auto release = h.assigned({4});
  BOOST_TEST((release == std::vector<int>{1, 6}));
  BOOST_TEST(h.lost().empty());
  BOOST_TEST((h.pending() == std::set<int>{4})); // a new epoch for the one given back
}

BOOST_AUTO_TEST_CASE(a_lost_pending_shard_is_dropped_not_kept) {
  shard_handoff h;
  h.assigned({2, 3});
  h.acquired(2); // 3 never got its epoch (the database was down)
  auto release = h.revoked({2, 3}, true, false, owned({2}));
  BOOST_TEST((release == std::vector<int>{3}));
  BOOST_TEST((h.lost() == std::set<int>{2}));
  BOOST_TEST(h.pending().empty());
}

BOOST_AUTO_TEST_CASE(leaving_releases_everything_even_when_lost) {
  shard_handoff h;
  h.assigned({5});
  h.acquired(5);
  BOOST_TEST((h.revoked({5}, true, true, owned({5})) == std::vector<int>{5}));
  BOOST_TEST(h.lost().empty());
}

BOOST_AUTO_TEST_SUITE_END()
