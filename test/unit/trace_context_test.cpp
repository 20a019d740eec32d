#include "messages/trace_context.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace flashsale;

namespace {

const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string parent = "00f067aa0ba902b7";
const std::string valid = "00-" + trace + "-" + parent + "-01";

bool refused(const std::string& text) {
  return !parse_traceparent(text).has_value();
}

} // namespace

BOOST_AUTO_TEST_SUITE(trace_context_suite)

BOOST_AUTO_TEST_CASE(a_valid_header_is_read) {
  auto c = parse_traceparent(valid);
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c->trace_id == trace);
  BOOST_TEST(c->parent_id == parent);
  BOOST_TEST(c->flags == 1);
  BOOST_TEST(format_traceparent(*c) == valid);
  auto unsampled = parse_traceparent("00-" + trace + "-" + parent + "-00");
  BOOST_TEST_REQUIRE(unsampled.has_value());
  BOOST_TEST(unsampled->flags == 0);
}

BOOST_AUTO_TEST_CASE(version_ff_is_refused) {
  BOOST_TEST(refused("ff-" + trace + "-" + parent + "-01"));
}

BOOST_AUTO_TEST_CASE(all_zero_ids_are_refused) {
  BOOST_TEST(refused("00-" + std::string(32, '0') + "-" + parent + "-01"));
  BOOST_TEST(refused("00-" + trace + "-" + std::string(16, '0') + "-01"));
}

BOOST_AUTO_TEST_CASE(upper_case_hex_is_refused) {
  BOOST_TEST(refused("00-4BF92F3577B34DA6A3CE929D0E0E4736-" + parent + "-01"));
  BOOST_TEST(refused("00-" + trace + "-00F067AA0BA902B7-01"));
  BOOST_TEST(refused("0A-" + trace + "-" + parent + "-01"));
  BOOST_TEST(refused("00-" + trace + "-" + parent + "-0A"));
}

BOOST_AUTO_TEST_CASE(wrong_lengths_and_separators_are_refused) {
  BOOST_TEST(refused(""));
  BOOST_TEST(refused(valid.substr(0, valid.size() - 1)));
  BOOST_TEST(refused("00-" + trace + "0-" + parent + "-01"));   // trace id 33 digits
  BOOST_TEST(refused("00-" + trace.substr(1) + "-0" + parent + "-01")); // 31 + 17
  BOOST_TEST(refused("00-" + trace + "-" + parent + "-1"));
  BOOST_TEST(refused("00_" + trace + "-" + parent + "-01"));
  BOOST_TEST(refused("00-" + trace + "_" + parent + "-01"));
  BOOST_TEST(refused("00-" + trace + "-" + parent + "_01"));
  BOOST_TEST(refused("00-" + trace + "-" + parent + "-0g"));
  BOOST_TEST(refused(" " + valid));
}

BOOST_AUTO_TEST_CASE(version_00_has_exactly_four_fields) {
  BOOST_TEST(refused(valid + "-"));
  BOOST_TEST(refused(valid + "-what-the-future-will-be-like"));
  BOOST_TEST(refused(valid + "0"));
}

BOOST_AUTO_TEST_CASE(a_future_version_is_read_by_the_version_00_layout) {
  auto future = "cc-" + trace + "-" + parent + "-01";
  BOOST_TEST(parse_traceparent(future).has_value());
  auto more = parse_traceparent(future + "-what-the-future-will-be-like");
  BOOST_TEST_REQUIRE(more.has_value());
  BOOST_TEST(more->trace_id == trace);
  BOOST_TEST(more->parent_id == parent);
  BOOST_TEST(refused(future + "what")); // more text must start with '-'
  BOOST_TEST(refused("cc-" + trace + "-" + parent + "-0x-more"));
}

BOOST_AUTO_TEST_CASE(continuing_keeps_the_trace_and_flags_with_a_new_span) {
  auto unsampled = "00-" + trace + "-" + parent + "-00";
  auto c = continue_trace(unsampled);
  BOOST_TEST(c.trace_id == trace);
  BOOST_TEST(c.flags == 0);
  BOOST_TEST(c.parent_id != parent);
  BOOST_TEST(parse_traceparent(format_traceparent(c)).has_value());
  // Sent as version 00 whatever came in; flags level 1 does not define are zeroed.
  auto future = next_traceparent("cc-" + trace + "-" + parent + "-ff-extra");
  BOOST_TEST(future.substr(0, 36) == "00-" + trace + "-");
  BOOST_TEST(future.substr(53) == "01");
  BOOST_TEST(future.size() == traceparent_length);
}

BOOST_AUTO_TEST_CASE(a_missing_or_malformed_header_starts_a_sampled_trace) {
  std::set<std::string> traces, spans;
  for (const std::string& in : {std::string{}, std::string{"garbage"}, "ff" + valid.substr(2)}) {
    auto c = continue_trace(in);
    BOOST_TEST(parse_traceparent(format_traceparent(c)).has_value());
    BOOST_TEST(c.flags == trace_flag_sampled);
    traces.insert(c.trace_id);
    spans.insert(c.parent_id);
  }
  BOOST_TEST(traces.size() == 3u);
  BOOST_TEST(spans.size() == 3u);
}

BOOST_AUTO_TEST_CASE(the_trace_id_of_a_header_is_for_logs) {
  BOOST_TEST(trace_id_of(valid) == trace);
  BOOST_TEST(trace_id_of("").empty());
  BOOST_TEST(trace_id_of("00-nope").empty());
}

BOOST_AUTO_TEST_SUITE_END()
