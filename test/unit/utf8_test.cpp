#include "messages/utf8.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace flashsale;

BOOST_AUTO_TEST_SUITE(utf8_suite)

BOOST_AUTO_TEST_CASE(scalar_values_of_every_length_are_valid) {
  for (std::string s : {"", "a", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
                        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
                        "h\xc3\xa9llo \xf0\x9f\x98\x80"})
    BOOST_TEST(is_valid_utf8(s), s);
}

BOOST_AUTO_TEST_CASE(surrogates_overlongs_and_out_of_range_are_invalid) {
  for (std::string s : {"\xed\xa0\x80",          // U+D800, what "\ud800" decodes to
                        "\xed\xb0\x80",          // U+DC00, what "\udc00" decodes to
                        "\xed\xbf\xbf",          // U+DFFF
                        "\xed\xa0\xbd\xed\xb8\x80", // a pair encoded as two surrogates (CESU-8)
                        "\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", // overlong
                        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe",   // > U+10FFFF
                        "\x80", "\xbf",                         // a lone continuation
                        "\xc3", "\xe2\x82", "\xf0\x9f\x98",     // truncated
                        "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80"}) // bad continuation
    BOOST_TEST(!is_valid_utf8("ok" + s + "ok"), s.size() << " bytes");
}

BOOST_AUTO_TEST_CASE(length_counts_code_points) {
  BOOST_TEST(utf8_length("") == 0u);
  BOOST_TEST(utf8_length("abc") == 3u);
  BOOST_TEST(utf8_length("h\xc3\xa9llo \xf0\x9f\x98\x80") == 7u);
}

BOOST_AUTO_TEST_SUITE_END()
