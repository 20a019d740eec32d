#include "http/connection.hpp"

#include <boost/test/unit_test.hpp>

using namespace flashsale::http;

BOOST_AUTO_TEST_SUITE(http_connection)

// RFC 9112 §9.3: persistence is HTTP/1.1's default; Pistache 0.0.5 closed every
// connection whose request had no Connection header.
BOOST_AUTO_TEST_CASE(http_1_1_persists_unless_the_client_says_close) {
  BOOST_TEST(keeps_connection(http_version::http_1_1, connection_option::absent));
  BOOST_TEST(keeps_connection(http_version::http_1_1, connection_option::keep_alive));
  BOOST_TEST(keeps_connection(http_version::http_1_1, connection_option::other));
  BOOST_TEST(!keeps_connection(http_version::http_1_1, connection_option::close));
}

BOOST_AUTO_TEST_CASE(http_1_0_persists_only_with_keep_alive) {
  BOOST_TEST(!keeps_connection(http_version::http_1_0, connection_option::absent));
  BOOST_TEST(!keeps_connection(http_version::http_1_0, connection_option::other));
  BOOST_TEST(!keeps_connection(http_version::http_1_0, connection_option::close));
  BOOST_TEST(keeps_connection(http_version::http_1_0, connection_option::keep_alive));
}

BOOST_AUTO_TEST_SUITE_END()
