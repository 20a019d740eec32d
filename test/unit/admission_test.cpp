#include "http/admission.hpp"

#include <boost/test/unit_test.hpp>

using flashsale::http::admission;

BOOST_AUTO_TEST_SUITE(admission_suite)

// CONTRACT §3 "Overload": at most `limit` in flight; a refusal takes no place.
BOOST_AUTO_TEST_CASE(admits_up_to_the_limit_and_refuses_beyond_without_counting) {
  admission places{2};
  BOOST_TEST(places.try_enter());
  BOOST_TEST(places.try_enter());
  BOOST_TEST(!places.try_enter());
  BOOST_TEST(!places.try_enter());
  BOOST_TEST(places.in_flight() == 2);
  places.leave();
  BOOST_TEST(places.try_enter());
  BOOST_TEST(!places.try_enter());
  places.leave();
  places.leave();
  BOOST_TEST(places.in_flight() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
