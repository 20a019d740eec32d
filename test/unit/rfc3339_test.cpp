#include "messages/rfc3339.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace flashsale;

namespace {

struct time_case {
  const char* text;
  std::int64_t unix_ms;
};

// Reference values computed independently (Python's datetime, UTC).
const std::vector<time_case> reference_times{
  {"1970-01-01T00:00:00.000Z", 0},
  {"1970-01-01T00:00:00.001Z", 1},
  {"1969-12-31T23:59:59.999Z", -1},
  {"2026-01-01T00:00:00.000Z", 1767225600000},
  {"2024-02-29T12:34:56.789Z", 1709210096789},
  {"2000-02-29T00:00:00.000Z", 951782400000},
  {"1900-03-01T00:00:00.000Z", -2203891200000},
  {"2100-03-01T00:00:00.000Z", 4107542400000},
  {"9999-12-31T23:59:59.999Z", 253402300799999},
  {"0001-01-01T00:00:00.000Z", -62135596800000},
};

} // namespace

BOOST_AUTO_TEST_SUITE(rfc3339_suite)

BOOST_AUTO_TEST_CASE(formats_utc_with_milliseconds) {
  for (const auto& c : reference_times)
    BOOST_TEST(rfc3339_ms(c.unix_ms) == c.text);
}

BOOST_AUTO_TEST_CASE(parses_its_own_format) {
  for (const auto& c : reference_times) {
    auto parsed = parse_rfc3339_ms(c.text);
    BOOST_TEST_REQUIRE(parsed.has_value(), c.text);
    BOOST_TEST(*parsed == c.unix_ms, c.text);
  }
}

BOOST_AUTO_TEST_CASE(format_then_parse_round_trips_over_centuries) {
  // A step that is not a whole number of days or hours visits every time of day.
  constexpr std::int64_t step = 37 * 3600 * 1000 + 61 * 1000 + 7;
  for (std::int64_t ms = -2208988800000; ms < 4102444800000; ms += step) {
    auto parsed = parse_rfc3339_ms(rfc3339_ms(ms));
    BOOST_TEST_REQUIRE(parsed.has_value(), rfc3339_ms(ms));
    BOOST_TEST_REQUIRE(*parsed == ms, rfc3339_ms(ms));
  }
}

BOOST_AUTO_TEST_CASE(accepts_offsets_fractions_and_lower_case) {
  const std::int64_t base = 1767225600000; // 2026-01-01T00:00:00Z
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T00:00:00Z") == base);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01t00:00:00z") == base);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01 00:00:00Z") == base);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T00:00:00.5Z") == base + 500);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T00:00:00.05Z") == base + 50);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T00:00:00.123456789Z") == base + 123);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T02:00:00+02:00") == base);
  BOOST_TEST(*parse_rfc3339_ms("2025-12-31T18:30:00-05:30") == base);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T00:00:00+00:00") == base);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T00:00:00-00:00") == base);
  BOOST_TEST(*parse_rfc3339_ms("2026-01-01T01:00:00.250+01:00") == base + 250);
}

BOOST_AUTO_TEST_CASE(leap_years_follow_the_gregorian_rules) {
  BOOST_TEST(parse_rfc3339_ms("2024-02-29T00:00:00Z").has_value());
  BOOST_TEST(parse_rfc3339_ms("2000-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2023-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("1900-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2100-02-29T00:00:00Z").has_value());
}

BOOST_AUTO_TEST_CASE(refuses_malformed_text) {
  for (const char* text : {
         "",
         "2026-01-01",
         "2026-01-01T00:00:00",       // no zone
         "2026-01-01T00:00Z",         // no seconds
         "2026-1-01T00:00:00Z",
         "26-01-01T00:00:00Z",
         "2026-00-01T00:00:00Z",
         "2026-13-01T00:00:00Z",
         "2026-01-00T00:00:00Z",
         "2026-01-32T00:00:00Z",
         "2026-04-31T00:00:00Z",
         "2026-01-01T24:00:00Z",
         "2026-01-01T00:60:00Z",
         "2026-01-01T00:00:61Z",
         "2026-01-01T00:00:00.Z",
         "2026-01-01T00:00:00+24:00",
         "2026-01-01T00:00:00+02:60",
         "2026-01-01T00:00:00+0200",
         "2026-01-01T00:00:00+02",
         "2026-01-01T00:00:00ZZ",
         "2026-01-01T00:00:00Z ",
         " 2026-01-01T00:00:00Z",
         "2026-01-01X00:00:00Z",
         "2026/01/01T00:00:00Z",
         "2026-01-01T00:00:00UTC",
         "+2026-01-01T00:00:00Z",
         "abcd-ef-ghTij:kl:mnZ",
       }) {
    BOOST_TEST(!parse_rfc3339_ms(text).has_value(), "'" << text << "'");
  }
}

BOOST_AUTO_TEST_SUITE_END()
