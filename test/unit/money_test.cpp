#include "messages/money.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>
#include <vector>

using namespace flashsale;

namespace {

struct money_case {
  const char* text;
  minor_units value;
};

struct money_failure_case {
  const char* text;
  money_error error;
};

const char* error_name(money_error e) {
  switch (e) {
    case money_error::malformed:
      return "malformed";
    case money_error::too_many_decimals:
      return "too_many_decimals";
    case money_error::out_of_range:
      return "out_of_range";
  }
  return "?";
}

constexpr minor_units int64_max = std::numeric_limits<minor_units>::max();
constexpr minor_units int64_min = std::numeric_limits<minor_units>::min();

} // namespace

BOOST_AUTO_TEST_SUITE(money_suite)

BOOST_AUTO_TEST_CASE(parses_exact_values_in_every_json_spelling) {
  const std::vector<money_case> cases{
    {"12", 1200},
    {"12.5", 1250},
    {"12.50", 1250},
    {"12.340", 1234},
    {"12.3400000", 1234},
    {"0.05", 5},
    {"0.1", 10},
    {"0", 0},
    {"-0", 0},
    {"0.00", 0},
    {"0e5", 0},
    {"0.000e-7", 0},
    {"0e999999999999999999999", 0},
    {"-12.5", -1250},
    {"-0.05", -5},
    {"1e2", 10000},
    {"1E2", 10000},
    {"1e+2", 10000},
    {"1.5e1", 1500},
    {"125e-1", 1250},
    {"1234e-2", 1234},
    {"12340e-3", 1234},
    {"0.0125e3", 1250},
    {"1e-2", 1},
    {"9999999999999.99", 999'999'999'999'999},
    {"10000000000000", max_money},
    {"10000000000000.00", max_money},
    {"1e13", max_money},
    {"-10000000000000", -max_money},
    {"0.000000000000000000000000000000000000012e38", 120},
    {"0.000000000000000000000000000000000000012e37", 12},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      auto p = parse_money(c.text);
      BOOST_TEST_REQUIRE(p.value.has_value());
      BOOST_TEST(*p.value == c.value);
    }
  }
}

BOOST_AUTO_TEST_CASE(refuses_bad_values_with_the_right_reason) {
  const std::vector<money_failure_case> cases{
    {"12.345", money_error::too_many_decimals},
    {"12.3450", money_error::too_many_decimals},
    {"0.001", money_error::too_many_decimals},
    {"-0.001", money_error::too_many_decimals},
    {"12345e-3", money_error::too_many_decimals},
    {"1e-3", money_error::too_many_decimals},
    {"1e-400", money_error::too_many_decimals},
    {"10000000000000.01", money_error::out_of_range},
    {"10000000000001", money_error::out_of_range},
    {"-10000000000001", money_error::out_of_range},
    {"99999999999999999999", money_error::out_of_range},
    {"1e14", money_error::out_of_range},
    {"1e400", money_error::out_of_range},
    {"-1e400", money_error::out_of_range},
    {"1e99999999999999999999999999", money_error::out_of_range},
    {"123456789012345678901234567890123456789012345678901234567890",
     money_error::out_of_range},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      auto p = parse_money(c.text);
      BOOST_TEST_REQUIRE(!p.value.has_value());
      BOOST_TEST(error_name(p.error) == error_name(c.error));
    }
  }
}

BOOST_AUTO_TEST_CASE(refuses_text_that_is_not_a_json_number) {
  for (const char* text : {"", "-", "+1", "01", "-01", "00", "1.", ".5", "-.5", "1e", "1e+",
                           "1e-", "1E+-2", "abc", "1 ", " 1", "0x10", "1.2.3", "NaN",
                           "Infinity", "-Infinity", "--1", "1_0", "1,5", "1e2.5", "١"}) {
    BOOST_TEST_CONTEXT("'" << text << "'") {
      auto p = parse_money(text);
      BOOST_TEST_REQUIRE(!p.value.has_value());
      BOOST_TEST(error_name(p.error) == "malformed");
    }
  }
}

BOOST_AUTO_TEST_CASE(tenth_times_three_is_exactly_thirty_cents) {
  auto tenth = parse_money("0.1");
  BOOST_TEST_REQUIRE(tenth.value.has_value());
  auto product = checked_mul(*tenth.value, 3);
  BOOST_TEST_REQUIRE(product.has_value());
  BOOST_TEST(*product == 30);
  BOOST_TEST(format_money(*product) == "0.30");
  auto sum = checked_add(*checked_add(*tenth.value, *tenth.value), *tenth.value);
  BOOST_TEST(*sum == *parse_money("0.3").value);
}

BOOST_AUTO_TEST_CASE(formats_two_decimals) {
  BOOST_TEST(format_money(1250) == "12.50");
  BOOST_TEST(format_money(1234) == "12.34");
  BOOST_TEST(format_money(5) == "0.05");
  BOOST_TEST(format_money(50) == "0.50");
  BOOST_TEST(format_money(-5) == "-0.05");
  BOOST_TEST(format_money(-1250) == "-12.50");
  BOOST_TEST(format_money(0) == "0.00");
  BOOST_TEST(format_money(100) == "1.00");
  BOOST_TEST(format_money(max_money) == "10000000000000.00");
  BOOST_TEST(format_money(int64_max) == "92233720368547758.07");
  BOOST_TEST(format_money(int64_min) == "-92233720368547758.08");
}

BOOST_AUTO_TEST_CASE(format_then_parse_is_the_identity) {
  for (minor_units m : {minor_units{0}, minor_units{1}, minor_units{9}, minor_units{10},
                        minor_units{99}, minor_units{100}, minor_units{101},
                        minor_units{123456789}, max_money, -max_money, minor_units{-1}}) {
    auto p = parse_money(format_money(m));
    BOOST_TEST_REQUIRE(p.value.has_value(), format_money(m));
    BOOST_TEST(*p.value == m);
  }
  for (minor_units m = -1000; m <= 100000; m += 7)
    BOOST_TEST_REQUIRE(*parse_money(format_money(m)).value == m);
}

BOOST_AUTO_TEST_CASE(checked_mul_stays_within_max_money) {
  BOOST_TEST(*checked_mul(1250, 3) == 3750);
  BOOST_TEST(*checked_mul(0, 10000) == 0);
  BOOST_TEST(*checked_mul(max_money, 1) == max_money);
  BOOST_TEST(*checked_mul(-max_money, 1) == -max_money);
  BOOST_TEST(*checked_mul(max_money / 10000, 10000) == max_money);
  BOOST_TEST(!checked_mul(max_money, 2).has_value());
  BOOST_TEST(!checked_mul(max_money / 2 + 1, 2).has_value());
  BOOST_TEST(!checked_mul(-max_money, 2).has_value());
  BOOST_TEST(!checked_mul(int64_max, 2).has_value());
  BOOST_TEST(!checked_mul(int64_min, -1).has_value());
  BOOST_TEST(!checked_mul(int64_max, int64_max).has_value());
}

BOOST_AUTO_TEST_CASE(checked_add_stays_within_max_money) {
  BOOST_TEST(*checked_add(1, 2) == 3);
  BOOST_TEST(*checked_add(max_money, 0) == max_money);
  BOOST_TEST(*checked_add(max_money, -max_money) == 0);
  BOOST_TEST(!checked_add(max_money, 1).has_value());
  BOOST_TEST(!checked_add(-max_money, -1).has_value());
  BOOST_TEST(!checked_add(int64_max, 1).has_value());
  BOOST_TEST(!checked_add(int64_min, -1).has_value());
  BOOST_TEST(!checked_add(int64_max, int64_max).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
