#include "actors/saga/flow_gate.hpp"

#include <boost/test/unit_test.hpp>

using namespace flashsale;
using action = flow_gate::action;

namespace {

/// `g` asks for `a` at `in_flight` until the client takes it, then for nothing.
void asked_until_taken(flow_gate& g, action a, std::size_t in_flight) {
  BOOST_TEST((g.next(in_flight) == a));
  BOOST_TEST((g.next(in_flight) == a));
  g.done(a, true);
  BOOST_TEST((g.next(in_flight) == action::none));
}

} // namespace

BOOST_AUTO_TEST_SUITE(flow_gate_suite)

BOOST_AUTO_TEST_CASE(pauses_at_the_bound_and_resumes_at_half) {
  flow_gate g{10};
  BOOST_TEST((g.next(9) == action::none));
  BOOST_TEST((g.next(10) == action::pause));
  g.done(action::pause, true);
  BOOST_TEST(g.paused());
  BOOST_TEST((g.next(6) == action::none));
  BOOST_TEST((g.next(5) == action::resume));
  g.done(action::resume, true);
  BOOST_TEST(!g.paused());
  BOOST_TEST((g.next(5) == action::none));
}

BOOST_AUTO_TEST_CASE(a_refused_resume_is_asked_again_until_it_takes) {
  flow_gate g{10};
  g.done(g.next(10), true);
  g.done(g.next(0), false); // librdkafka refused the resume
  BOOST_TEST(!g.paused());
  asked_until_taken(g, action::resume, 3);
}

BOOST_AUTO_TEST_CASE(a_refused_pause_is_asked_again_or_given_up_below_half) {
  flow_gate g{10};
  g.done(g.next(10), false);
  BOOST_TEST(g.paused());
  BOOST_TEST((g.next(11) == action::pause));
  // Handled down to half before it took: resume, which also clears a partial pause.
  BOOST_TEST((g.next(5) == action::resume));
}

BOOST_AUTO_TEST_CASE(a_pause_refused_in_a_rebalance_is_asked_again) {
  flow_gate g{10};
  g.done(g.next(10), true);
  g.refused();
  asked_until_taken(g, action::pause, 8);
}

BOOST_AUTO_TEST_CASE(a_new_client_starts_unpaused) {
  flow_gate g{10};
  g.done(g.next(10), false);
  g.reset();
  BOOST_TEST(!g.paused());
  BOOST_TEST((g.next(0) == action::none));
}

BOOST_AUTO_TEST_SUITE_END()
