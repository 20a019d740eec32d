#include "kafka/dlq_copy.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace flashsale::kafka;

namespace {

/// A copy as dlq_writer::write makes it: one original header, then the DLQ's four.
dlq_copy copy_of(std::string value) {
  dlq_copy c;
  c.key = "0b7e2a52-6c2d-4e4b-9a65-1f0d6f0e7a11";
  c.value = std::move(value);
  c.headers = {{"event_type", "INVENTORY_RESERVED"},
               {"dlq_reason", "not_json: Invalid value."},
               {"source_topic", "inventory.v1.events"},
               {"source_partition", "3"},
               {"source_offset", "12345"}};
  c.original_headers = 1;
  return c;
}

const header* find(const dlq_copy& c, const std::string& name) {
  for (const auto& h : c.headers)
    if (h.name == name)
      return &h;
  return nullptr;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dlq_copy_suite)

BOOST_AUTO_TEST_CASE(a_copy_that_fits_is_left_whole) {
  auto c = copy_of(std::string(1000, 'x'));
  BOOST_TEST(!fit_dlq_copy(c, max_message_bytes));
  BOOST_TEST(c.value.size() == 1000u);
  BOOST_TEST(c.headers.size() == 5u);
  BOOST_TEST(!find(c, "dlq_truncated"));
}

BOOST_AUTO_TEST_CASE(the_size_counts_key_value_and_every_header) {
  auto c = copy_of("abc");
  auto base = dlq_wire_size(c);
  c.value += "defg";
  BOOST_TEST(dlq_wire_size(c) == base + 4);
  c.headers.push_back({"n", "vv"});
  BOOST_TEST(dlq_wire_size(c) > base + 4 + 3);
}

BOOST_AUTO_TEST_CASE(a_message_as_large_as_its_topic_allows_is_cut_to_fit_with_its_size) {
  std::string value = "not json " + std::string(max_message_bytes - 200, 'x');
  auto c = copy_of(value);
  BOOST_TEST(dlq_wire_size(c) > static_cast<std::size_t>(max_message_bytes));
  BOOST_TEST(fit_dlq_copy(c, max_message_bytes));
  BOOST_TEST(dlq_wire_size(c) <= static_cast<std::size_t>(max_message_bytes));
  BOOST_TEST(dlq_wire_size(c) > static_cast<std::size_t>(max_message_bytes) - 16);
  BOOST_TEST(value.compare(0, c.value.size(), c.value) == 0); // the start is kept
  BOOST_TEST(c.value.size() < value.size());
  auto* t = find(c, "dlq_truncated");
  BOOST_REQUIRE(t);
  BOOST_TEST(t->value == std::to_string(value.size()));
  BOOST_TEST(find(c, "event_type")); // the original headers stay
  BOOST_TEST(find(c, "source_offset"));
  BOOST_TEST(c.key == copy_of("").key);
}

BOOST_AUTO_TEST_CASE(headers_too_large_for_any_value_leave_only_the_dlq_headers) {
  auto c = copy_of("small");
  c.headers.insert(c.headers.begin(), {"huge", std::string(5000, 'h')});
  c.original_headers = 2;
  BOOST_TEST(fit_dlq_copy(c, 1000));
  BOOST_TEST(c.value.empty());
  BOOST_TEST(!find(c, "huge"));
  BOOST_TEST(!find(c, "event_type"));
  BOOST_TEST(find(c, "dlq_reason"));
  BOOST_TEST(find(c, "source_partition"));
  BOOST_TEST(find(c, "dlq_truncated")->value == "5");
  BOOST_TEST(dlq_wire_size(c) <= 1000u);
  BOOST_TEST(!c.key.empty());
}

BOOST_AUTO_TEST_CASE(a_stripped_copy_keeps_the_events_traceparent) {
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto c = copy_of("small");
  c.headers.insert(c.headers.begin(), {{"huge", std::string(5000, 'h')}, {"traceparent", trace}});
  c.original_headers = 3;
  BOOST_TEST(fit_dlq_copy(c, 1000));
  BOOST_TEST(!find(c, "huge"));
  BOOST_TEST_REQUIRE(find(c, "traceparent"));
  BOOST_TEST(find(c, "traceparent")->value == trace);
  BOOST_TEST(dlq_wire_size(c) <= 1000u);
  auto bad = copy_of("small"); // a malformed one is not worth the bytes
  bad.headers.insert(bad.headers.begin(), {"traceparent", std::string(5000, 't')});
  bad.original_headers = 2;
  BOOST_TEST(fit_dlq_copy(bad, 1000));
  BOOST_TEST(!find(bad, "traceparent"));
}

BOOST_AUTO_TEST_CASE(stripping_keeps_key_and_dlq_headers_and_one_size_header) {
  auto c = copy_of(std::string(3000, 'y'));
  BOOST_TEST(fit_dlq_copy(c, 2000)); // cut: dlq_truncated=3000
  strip_dlq_copy(c, 3000);          // the broker refused it all the same
  BOOST_TEST(c.value.empty());
  BOOST_TEST(c.original_headers == 0u);
  int sizes = 0;
  for (const auto& h : c.headers)
    sizes += h.name == "dlq_truncated";
  BOOST_TEST(sizes == 1);
  BOOST_TEST(find(c, "dlq_truncated")->value == "3000");
  BOOST_TEST(!find(c, "event_type"));
  BOOST_TEST(find(c, "source_topic")->value == "inventory.v1.events");
  BOOST_TEST(c.headers.size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
