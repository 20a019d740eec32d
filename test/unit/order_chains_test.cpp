#include "actors/saga/order_chains.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace flashsale;

namespace {

struct work {
  int id = 0;
  bool stale = false;
};

auto is_stale = [](const work& w) { return w.stale; };

} // namespace

BOOST_AUTO_TEST_SUITE(order_chains_suite)

BOOST_AUTO_TEST_CASE(only_the_first_event_of_an_order_goes_out_at_once) {
  order_chains<work> c;
  BOOST_TEST(c.append("a", {1}));
  BOOST_TEST(!c.append("a", {2}));
  BOOST_TEST(c.append("b", {3})); // another order is independent
  BOOST_TEST(c.orders() == 2u);
  BOOST_TEST(c.length("a") == 2u);
}

BOOST_AUTO_TEST_CASE(one_order_s_events_come_out_in_order) {
  order_chains<work> c;
  for (int i = 1; i <= 5; ++i)
    c.append("a", {i});
  for (int i = 1; i <= 5; ++i) {
    auto* f = c.ready_front("a", is_stale);
    BOOST_REQUIRE(f);
    BOOST_TEST(f->id == i);
    BOOST_TEST(c.take_front("a").id == i);
  }
  BOOST_TEST(!c.ready_front("a", is_stale));
  BOOST_TEST(c.orders() == 0u); // an empty chain is forgotten
}

BOOST_AUTO_TEST_CASE(a_failed_front_stays_in_front) {
  order_chains<work> c;
  c.append("a", {1});
  c.append("a", {2});
  // A retry asks for the front again: it is still the first event.
  BOOST_TEST(c.ready_front("a", is_stale)->id == 1);
  BOOST_TEST(c.ready_front("a", is_stale)->id == 1);
}

BOOST_AUTO_TEST_CASE(stale_fronts_are_dropped) {
  order_chains<work> c;
  c.append("a", {1, true});
  c.append("a", {2, true});
  c.append("a", {3});
  BOOST_TEST(c.ready_front("a", is_stale)->id == 3);
  BOOST_TEST(c.length("a") == 1u);
  order_chains<work> d;
  d.append("x", {1, true});
  BOOST_TEST(!d.ready_front("x", is_stale));
  BOOST_TEST(d.orders() == 0u);
}

BOOST_AUTO_TEST_CASE(dropping_waiting_events_keeps_the_front) {
  order_chains<work> c;
  c.append("a", {1, true}); // out at the registry; its answer decides
  c.append("a", {2, true});
  c.append("a", {3});
  c.append("b", {4, true});
  c.drop_waiting_if(is_stale);
  BOOST_TEST(c.length("a") == 2u);
  BOOST_TEST(c.front("a")->id == 1);
  BOOST_TEST(c.length("b") == 1u);
  c.take_front("a");
  BOOST_TEST(c.front("a")->id == 3);
}

BOOST_AUTO_TEST_CASE(slots_bound_the_events_out_and_queue_orders_in_arrival_order) {
  dispatch_slots s{2};
  BOOST_TEST(s.acquire("a"));
  BOOST_TEST(s.acquire("b"));
  BOOST_TEST(!s.acquire("c"));
  BOOST_TEST(!s.acquire("d"));
  BOOST_TEST(s.taken() == 2u);
  BOOST_TEST(!s.next_waiting()); // no free slot
  s.release();
  auto next = s.next_waiting();
  BOOST_REQUIRE(next);
  BOOST_TEST(*next == "c");
  BOOST_TEST(s.acquire(*next));
  BOOST_TEST(!s.next_waiting());
  s.release();
  BOOST_TEST(*s.next_waiting() == "d");
  BOOST_TEST(!s.next_waiting());
}

BOOST_AUTO_TEST_CASE(release_never_goes_below_zero) {
  dispatch_slots s{1};
  s.release();
  BOOST_TEST(s.taken() == 0u);
  BOOST_TEST(s.acquire("a"));
  BOOST_TEST(!s.acquire("b"));
}

BOOST_AUTO_TEST_SUITE_END()
