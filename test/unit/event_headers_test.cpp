#include "messages/event_headers.hpp"
#include "messages/events.hpp"
#include "messages/trace_context.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

using namespace flashsale;

namespace {

const std::string order_id = "0b7e2a52-6c2d-4e4b-9a65-1f0d6f0e7a11";
constexpr std::int64_t now_ms = 1767225600123; // 2026-01-01T00:00:00.123Z

std::map<std::string, std::string> as_map(const event_header_views& list) {
  std::map<std::string, std::string> m;
  for (std::size_t i = 0; i < list.count; ++i)
    BOOST_TEST(m.emplace(list.items[i].name, list.items[i].value).second); // each header once
  return m;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_headers_suite)

BOOST_AUTO_TEST_CASE(an_event_carries_the_cloud_events_binary_mode_attributes) {
  auto e = make_order_paid(order_id, now_ms);
  e.traceparent = next_traceparent({});
  auto h = as_map(event_header_views_of({e.event_id, e.event_type, e.order_id, e.envelope, e.traceparent}));
  BOOST_TEST(h.size() == 9u);
  BOOST_TEST(h["event_type"] == "ORDER_PAID");
  BOOST_TEST(h["ce_specversion"] == "1.0");
  BOOST_TEST(h["ce_id"] == e.event_id);
  BOOST_TEST(h["ce_type"] == "ORDER_PAID");
  BOOST_TEST(h["ce_source"] == "/flashsale/order-service");
  BOOST_TEST(h["ce_time"] == "2026-01-01T00:00:00.123Z");
  BOOST_TEST(h["ce_subject"] == order_id);
  BOOST_TEST(h["content-type"] == "application/json");
  BOOST_TEST(h["traceparent"] == e.traceparent);
}

BOOST_AUTO_TEST_CASE(ce_time_is_the_envelopes_occurred_at_for_every_event) {
  order o;
  o.id = order_id;
  o.user_id = "5d0f1c8e-2b7a-4f7e-8c1d-3a2b1c0d9e8f";
  o.currency = "EUR";
  o.created_at = now_ms / 1000;
  for (const auto& e : {make_order_created(o, now_ms), make_order_cancelled(order_id, "X", now_ms),
                        make_order_expired(order_id, "Y", now_ms),
                        make_order_payment_rejected(order_id, "pi_1", "ORDER_EXPIRED", now_ms)})
    BOOST_TEST(occurred_at_of(e.envelope) == rfc3339_ms(now_ms));
}

BOOST_AUTO_TEST_CASE(a_row_without_traceparent_sends_none) {
  auto e = make_order_paid(order_id, now_ms);
  auto h = as_map(event_header_views_of({e.event_id, e.event_type, e.order_id, e.envelope, {}}));
  BOOST_TEST(h.count("traceparent") == 0u);
  BOOST_TEST(h.size() == 8u);
}

BOOST_AUTO_TEST_CASE(an_envelope_without_occurred_at_has_no_ce_time) {
  BOOST_TEST(occurred_at_of(R"({"event_id":"x"})").empty());
  BOOST_TEST(occurred_at_of(R"({"occurred_at":"unterminated)").empty());
  auto h = as_map(event_header_views_of({"id", "ORDER_PAID", order_id, "{}", {}}));
  BOOST_TEST(h.count("ce_time") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
