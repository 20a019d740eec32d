#include "actors/cluster/rendezvous.hpp"
#include "messages/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace flashsale;

namespace {

std::vector<std::string> order_ids(std::size_t n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    ids.push_back(new_uuid());
  return ids;
}

const std::vector<std::string> three{"node-1", "node-2", "node-3"};

} // namespace

BOOST_AUTO_TEST_SUITE(rendezvous_suite)

BOOST_AUTO_TEST_CASE(the_hash_is_stable_across_runs_and_machines) {
  // Fixed values: a change of the hash would move every order of a running cluster
  // whose nodes run different builds.
  BOOST_TEST(stable_hash("") == stable_hash(""));
  BOOST_TEST(stable_hash("node-1") != stable_hash("node-2"));
  BOOST_TEST(rendezvous_weight("node-1", "0190f0a0-0000-7000-8000-000000000001")
             == 0x9ab767c5303ac004ULL); // checked with an independent Python FNV-1a + splitmix64
  BOOST_TEST(rendezvous_owner("0190f0a0-0000-7000-8000-000000000001", three) == "node-2");
}

BOOST_AUTO_TEST_CASE(the_owner_does_not_depend_on_the_order_of_the_list) {
  auto reversed = three;
  std::reverse(reversed.begin(), reversed.end());
  for (const auto& id : order_ids(1000))
    BOOST_TEST(rendezvous_owner(id, three) == rendezvous_owner(id, reversed));
}

BOOST_AUTO_TEST_CASE(no_nodes_no_owner_and_one_node_owns_everything) {
  BOOST_TEST(rendezvous_owner("x", {}).empty());
  BOOST_TEST(rendezvous_owner("x", {"only"}) == "only");
}

BOOST_AUTO_TEST_CASE(orders_spread_evenly_over_three_nodes) {
  constexpr std::size_t n = 30000;
  std::map<std::string, std::size_t> per_node;
  for (const auto& id : order_ids(n))
    ++per_node[rendezvous_owner(id, three)];
  BOOST_TEST(per_node.size() == 3u);
  // 10 000 expected each; a binomial standard deviation is ~82, so 5% is > 6 sigma.
  for (const auto& [node, count] : per_node)
    BOOST_TEST((count > 9500 && count < 10500), node << " owns " << count);
}

BOOST_AUTO_TEST_CASE(removing_a_node_moves_only_its_orders) {
  const std::vector<std::string> two{"node-1", "node-3"};
  std::size_t moved = 0;
  for (const auto& id : order_ids(30000)) {
    auto before = rendezvous_owner(id, three);
    auto after = rendezvous_owner(id, two);
    if (before != "node-2")
      BOOST_TEST(after == before, id);
    else
      ++moved;
  }
  BOOST_TEST(moved > 9000u); // node-2's third, and nothing else
}

BOOST_AUTO_TEST_CASE(adding_a_node_takes_orders_only_for_itself) {
  const std::vector<std::string> four{"node-1", "node-2", "node-3", "node-4"};
  for (const auto& id : order_ids(10000)) {
    auto after = rendezvous_owner(id, four);
    if (after != "node-4")
      BOOST_TEST(after == rendezvous_owner(id, three), id);
  }
}

BOOST_AUTO_TEST_SUITE_END()
