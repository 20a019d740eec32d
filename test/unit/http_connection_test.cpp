#include "http/connection.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

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


namespace {

using found = foreign_method_line::state;

foreign_method_line scan(std::string_view text) {
  return scan_foreign_method(text);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_method_pistache_cannot_parse_is_found_with_its_target) {
  auto line = scan("QUERY /api/v1/orders?user_id=x HTTP/1.1\r\nHost: a\r\n\r\n");
  BOOST_TEST((line.found == found::complete));
  BOOST_TEST(line.method == "QUERY");
  BOOST_TEST(line.target == "/api/v1/orders?user_id=x");
  BOOST_TEST((scan("BREW /healthz HTTP/1.0\n\n").found == found::complete)); // bare LF
  BOOST_TEST((scan("get /healthz HTTP/1.1\r\n").found == found::complete)); // case-sensitive
  BOOST_TEST((scan("M-SEARCH* * HTTP/1.1\r\n").found == found::complete));
}

BOOST_AUTO_TEST_CASE(a_foreign_method_waits_for_the_end_of_its_line) {
  BOOST_TEST((scan("QUERY /api/v1/or").found == found::incomplete));
  BOOST_TEST((scan("QUERY ").found == found::incomplete));
  // No space yet: Pistache's own step waits, whatever the method becomes.
  BOOST_TEST((scan("QUER").found == found::none));
  BOOST_TEST((scan("").found == found::none));
}

BOOST_AUTO_TEST_CASE(known_methods_and_malformed_lines_are_left_to_pistache) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE",
                        "CONNECT"}) {
    BOOST_TEST_CONTEXT(m) {
      BOOST_TEST((scan(std::string{m} + " /healthz HTTP/1.1\r\n").found == found::none));
      BOOST_TEST((scan(std::string{m} + " /heal").found == found::none));
    }
  }
  for (const char* text : {"BR(W /healthz HTTP/1.1\r\n", " /healthz HTTP/1.1\r\n",
                           "BREW  /healthz HTTP/1.1\r\n", "BREW /healthz\r\n",
                           "BREW /healthz HTTP/2\r\n", "BREW /a\x01 HTTP/1.1\r\n",
                           "BR\x80W /healthz HTTP/1.1\r\n", "BREW /healthz HTTP/1.1 x\r\n"}) {
    BOOST_TEST_CONTEXT(text) { BOOST_TEST((scan(text).found == found::none)); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
