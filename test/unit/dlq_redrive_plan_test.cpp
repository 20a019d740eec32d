// plan_redrive: what `flashsale-order dlq replay` does with one dead-letter message.

#include "kafka/dlq_redrive_plan.hpp"

#include <boost/test/unit_test.hpp>

using namespace flashsale::kafka;

namespace {

std::vector<header> dlq_headers(std::vector<header> extra = {}) {
  std::vector<header> h{{"event_type", "INVENTORY_RESERVED"},
                        {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  for (auto& e : extra)
    h.push_back(std::move(e));
  h.push_back({"dlq_reason", "not_json: Invalid value."});
  h.push_back({"source_topic", "inventory.v1.events"});
  h.push_back({"source_partition", "2"});
  h.push_back({"source_offset", "17"});
  return h;
}

std::string value_of(const std::vector<header>& hs, const std::string& name) {
  std::string v = "<absent>";
  for (const auto& h : hs)
    if (h.name == name)
      v = h.value;
  return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dlq_redrive_plan_suite)

BOOST_AUTO_TEST_CASE(a_first_replay_keeps_the_original_headers_and_counts_one) {
  auto p = plan_redrive(dlq_headers(), {});
  BOOST_TEST(p.what == redrive_plan::replay);
  BOOST_TEST(p.source_topic == "inventory.v1.events");
  BOOST_TEST(p.dlq_reason == "not_json: Invalid value.");
  BOOST_TEST(p.redrive_count == 0);
  BOOST_REQUIRE_EQUAL(p.headers.size(), 3u);
  BOOST_TEST(p.headers[0].name == "event_type");
  BOOST_TEST(p.headers[1].name == "traceparent");
  BOOST_TEST(value_of(p.headers, "dlq_redrive_count") == "1");
  for (const char* gone : {"dlq_reason", "source_topic", "source_partition", "source_offset"})
    BOOST_TEST(value_of(p.headers, gone) == "<absent>");
}

BOOST_AUTO_TEST_CASE(the_count_goes_up_by_one_and_stops_at_the_limit) {
  auto second = plan_redrive(dlq_headers({{"dlq_redrive_count", "1"}}), {});
  BOOST_TEST(second.what == redrive_plan::replay);
  BOOST_TEST(value_of(second.headers, "dlq_redrive_count") == "2");
  auto third = plan_redrive(dlq_headers({{"dlq_redrive_count", "2"}}), {3, ""});
  BOOST_TEST(third.what == redrive_plan::replay);
  auto fourth = plan_redrive(dlq_headers({{"dlq_redrive_count", "3"}}), {3, ""});
  BOOST_TEST(fourth.what == redrive_plan::refuse);
  BOOST_TEST(fourth.redrive_count == 3);
  BOOST_TEST(fourth.headers.empty());
  BOOST_TEST(plan_redrive(dlq_headers({{"dlq_redrive_count", "1"}}), {1, ""}).what
             == redrive_plan::refuse);
}

BOOST_AUTO_TEST_CASE(what_cannot_go_back_whole_or_safely_is_refused) {
  BOOST_TEST(plan_redrive(dlq_headers({{"dlq_redrive_count", "x"}}), {}).what == redrive_plan::refuse);
  BOOST_TEST(plan_redrive(dlq_headers({{"dlq_redrive_count", "-1"}}), {}).what == redrive_plan::refuse);
  BOOST_TEST(plan_redrive(dlq_headers({{"dlq_truncated", "2000000"}}), {}).what == redrive_plan::refuse);
  BOOST_TEST(plan_redrive({{"dlq_reason", "not_json"}}, {}).what == redrive_plan::refuse);
  auto elsewhere = dlq_headers();
  elsewhere.push_back({"source_topic", "order.v1.events"}); // the last one counts
  auto p = plan_redrive(elsewhere, {});
  BOOST_TEST(p.what == redrive_plan::refuse);
  BOOST_TEST(p.source_topic == "order.v1.events");
}

BOOST_AUTO_TEST_CASE(another_reason_than_asked_for_is_passed_over) {
  BOOST_TEST(plan_redrive(dlq_headers(), {3, "invalid_order_id"}).what == redrive_plan::pass_over);
  BOOST_TEST(plan_redrive(dlq_headers(), {3, "not_json"}).what == redrive_plan::replay);
  BOOST_TEST(plan_redrive(dlq_headers(), {3, "not_js"}).what == redrive_plan::pass_over);
}

BOOST_AUTO_TEST_SUITE_END()
