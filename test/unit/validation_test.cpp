// The one judgement of validity (messages/validation.hpp) that the HTTP parser, the
// Kafka decoder and the cluster wire format share, over the edge cases where they
// used to disagree (issue 22). The wire format's own use of it is tested with CAF in
// test/integration/wire_format_test.cpp.

#include "messages/create_order.hpp"
#include "messages/events.hpp"
#include "messages/validation.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>
#include <vector>

using namespace flashsale;

namespace {

const std::string order_id = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";
const std::string event_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const std::string e_acute = "\xc3\xa9";  // one character, two bytes
const std::string lone_surrogate = "\xed\xb0\x80"; // what "\udc00" decodes to

std::string times(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

incoming_event sample_event() {
  return {event_id, "PAYMENT_SUCCEEDED", order_id, "pi-1", "", 1767225600123};
}

order sample_order() {
  order o;
  o.id = order_id;
  o.user_id = event_id;
  o.currency = "EUR";
  o.total_amount = 2600;
  o.items = {{"sku-1", 2, 1250}, {"sku-2", 1, 100}};
  o.created_at = 1767225600;
  o.updated_at = 1767225600;
  o.expired_at = 1767225900;
  return o;
}

std::string envelope(const std::string& occurred_at, const std::string& payload_rest = "") {
  return R"({"event_id":")" + event_id + R"(","event_type":"PAYMENT_SUCCEEDED","occurred_at":")"
         + occurred_at + R"(","schema_version":1,"payload":{"order_id":")" + order_id + '"'
         + payload_rest + "}}";
}

} // namespace

BOOST_AUTO_TEST_SUITE(validation_suite)

BOOST_AUTO_TEST_CASE(times_are_those_rfc3339_can_name_before_1970_too) {
  BOOST_TEST(valid_time_ms(-1));                // 1969-12-31T23:59:59.999Z
  BOOST_TEST(valid_time_ms(-2203891200000));    // 1900-03-01
  BOOST_TEST(valid_time_ms(earliest_time_ms));  // 0000-01-01
  BOOST_TEST(valid_time_ms(latest_time_ms));    // 9999-12-31T23:59:59.999Z
  BOOST_TEST(!valid_time_ms(earliest_time_ms - 1));
  BOOST_TEST(!valid_time_ms(latest_time_ms + 1));
  BOOST_TEST(!valid_time_ms(std::numeric_limits<std::int64_t>::min()));
  BOOST_TEST(!valid_time_ms(std::numeric_limits<std::int64_t>::max()));
  BOOST_TEST(parse_rfc3339_ms("0000-01-01T00:00:00.000Z").value_or(0) == earliest_time_ms);
  BOOST_TEST(parse_rfc3339_ms("9999-12-31T23:59:59.999Z").value_or(0) == latest_time_ms);
  BOOST_TEST(valid_time_s(-1));
  BOOST_TEST(valid_time_s(253402300799));
  BOOST_TEST(!valid_time_s(253402300800));
  BOOST_TEST(!valid_time_s(std::numeric_limits<std::int64_t>::min()));
}

BOOST_AUTO_TEST_CASE(ids_are_canonical_uuids) {
  BOOST_TEST(canonical_uuid(order_id));
  BOOST_TEST(!canonical_uuid(""));
  BOOST_TEST(!canonical_uuid("0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E")); // normalised first
  BOOST_TEST(!canonical_uuid(order_id + " "));
  BOOST_TEST(!canonical_uuid("../../etc"));
}

BOOST_AUTO_TEST_CASE(lengths_count_characters_not_bytes) {
  BOOST_TEST(valid_text(times(e_acute, 256), 256));
  BOOST_TEST(!valid_text(times(e_acute, 257), 256));
  BOOST_TEST(valid_text("", 0));
  BOOST_TEST(!valid_text(lone_surrogate, 256));
  BOOST_TEST(!valid_text("\xff", 256));
  BOOST_TEST(valid_sku(times(e_acute, max_sku_length)));
  BOOST_TEST(!valid_sku(times(e_acute, max_sku_length + 1)));
  BOOST_TEST(!valid_sku(""));
  BOOST_TEST(!valid_sku(std::string("a\0b", 3)));
  BOOST_TEST(!valid_sku("a\nb"));
  BOOST_TEST(!valid_sku(lone_surrogate));
}

BOOST_AUTO_TEST_CASE(an_event_is_judged_field_by_field) {
  BOOST_TEST(check_incoming_event(sample_event()).empty());
  auto with = [](auto change) {
    auto e = sample_event();
    change(e);
    return check_incoming_event(e);
  };
  // Valid edges.
  BOOST_TEST(with([](incoming_event& e) { e.occurred_at_ms = -1; }).empty());
  BOOST_TEST(with([](incoming_event& e) { e.occurred_at_ms = 0; }).empty()); // unknown
  BOOST_TEST(with([](incoming_event& e) { e.occurred_at_ms = latest_time_ms; }).empty());
  BOOST_TEST(with([](incoming_event& e) { e.payment_intent_id.clear(); }).empty());
  BOOST_TEST(with([](incoming_event& e) {
               e.reason = times(e_acute, max_event_reason_length);
             }).empty());
  BOOST_TEST(with([](incoming_event& e) { e.event_type = "UNKNOWN_BUT_WELL_FORMED"; }).empty());
  // Invalid ones, each naming its field.
  auto names = [](const std::string& what, const char* field) {
    return what.find(field) != std::string::npos;
  };
  BOOST_TEST(names(with([](incoming_event& e) { e.event_id.clear(); }), "event_id"));
  BOOST_TEST(names(with([](incoming_event& e) { e.order_id.clear(); }), "order_id"));
  BOOST_TEST(names(with([](incoming_event& e) { e.event_type.clear(); }), "event_type"));
  BOOST_TEST(names(with([](incoming_event& e) {
                     e.event_type = std::string(max_event_type_length + 1, 'T');
                   }),
                   "event_type"));
  BOOST_TEST(names(with([](incoming_event& e) {
                     e.payment_intent_id = times(e_acute, max_payment_intent_id_length + 1);
                   }),
                   "payment_intent_id"));
  BOOST_TEST(names(with([](incoming_event& e) { e.reason = lone_surrogate; }), "reason"));
  BOOST_TEST(names(with([](incoming_event& e) { e.occurred_at_ms = latest_time_ms + 1; }),
                   "occurred_at"));
  BOOST_TEST(names(with([](incoming_event& e) {
                     e.occurred_at_ms = std::numeric_limits<std::int64_t>::min();
                   }),
                   "occurred_at"));
}

// The decoder's side of the promise: whatever it hands on passes the check a peer
// applies, and a time no RFC 3339 text of ours could name again reads as unknown.
BOOST_AUTO_TEST_CASE(whatever_the_decoder_accepts_passes_the_check) {
  struct sample {
    std::string value;
    std::int64_t occurred_at_ms;
  };
  std::vector<sample> samples{
    {envelope("1969-12-31T23:59:59.999Z"), -1},
    {envelope("1900-03-01T00:00:00Z"), -2203891200000},
    {envelope("0000-01-01T00:00:00.000Z"), earliest_time_ms},
    {envelope("0000-01-01T00:00:00+00:01"), 0}, // before year 0000 in UTC
    {envelope("9999-12-31T23:59:59.999Z"), latest_time_ms},
    {envelope("9999-12-31T23:59:59.999-00:01"), 0}, // past year 9999 in UTC
    {envelope("not a time"), 0},
    {envelope("2026-01-01T00:00:00Z", R"(,"reason":")" + times(e_acute, 256) + '"'),
     1767225600000},
  };
  for (const auto& s : samples) {
    BOOST_TEST_CONTEXT(s.value.substr(0, 160)) {
      auto decoded = decode_incoming(s.value);
      BOOST_REQUIRE(std::holds_alternative<incoming_event>(decoded));
      const auto& e = std::get<incoming_event>(decoded);
      BOOST_TEST(e.occurred_at_ms == s.occurred_at_ms);
      BOOST_TEST(check_incoming_event(e).empty(), check_incoming_event(e));
    }
  }
  auto too_long = decode_incoming(
    envelope("2026-01-01T00:00:00Z", R"(,"reason":")" + times(e_acute, 257) + '"'));
  BOOST_REQUIRE(std::holds_alternative<decode_error>(too_long));
  BOOST_TEST((std::get<decode_error>(too_long).failure == decode_failure::bad_envelope));
}

BOOST_AUTO_TEST_CASE(an_order_is_judged_as_a_create_would) {
  BOOST_TEST(check_order(sample_order()).empty());
  auto with = [](auto change) {
    auto o = sample_order();
    change(o);
    return check_order(o);
  };
  BOOST_TEST(with([](order& o) { o.expired_at.reset(); }).empty());
  BOOST_TEST(with([](order& o) { o.items[0].sku_id = times(e_acute, max_sku_length); }).empty());
  BOOST_TEST(with([](order& o) { o.reason = "USER_CANCEL"; }).empty());
  BOOST_TEST(!with([](order& o) { o.id.clear(); }).empty());
  BOOST_TEST(!with([](order& o) { o.user_id = "0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E"; }).empty());
  BOOST_TEST(!with([](order& o) { o.status = static_cast<order_status>(6); }).empty());
  BOOST_TEST(!with([](order& o) { o.status = static_cast<order_status>(-1); }).empty());
  BOOST_TEST(!with([](order& o) { o.currency = "eur"; }).empty());
  BOOST_TEST(!with([](order& o) { o.items.clear(); }).empty());
  BOOST_TEST(!with([](order& o) { o.items.assign(max_items + 1, {"s", 1, 1}); }).empty());
  BOOST_TEST(!with([](order& o) { o.items[0].quantity = max_quantity + 1; }).empty());
  BOOST_TEST(!with([](order& o) { o.items[0].quantity = 0; }).empty());
  BOOST_TEST(!with([](order& o) { o.items[0].price = 0; }).empty());
  BOOST_TEST(!with([](order& o) { o.items[0].sku_id = times(e_acute, max_sku_length + 1); }).empty());
  BOOST_TEST(!with([](order& o) { o.total_amount += 1; }).empty());
  BOOST_TEST(!with([](order& o) {
               o.items = {{"s", max_quantity, max_money}};
               o.total_amount = max_money;
             }).empty()); // the sum overflows max_money
  BOOST_TEST(!with([](order& o) { o.created_at = std::numeric_limits<std::int64_t>::min(); }).empty());
  BOOST_TEST(!with([](order& o) { o.expired_at = std::numeric_limits<std::int64_t>::max(); }).empty());
  BOOST_TEST(!with([](order& o) { o.reason = lone_surrogate; }).empty());
}

BOOST_AUTO_TEST_CASE(money_and_quantities_have_one_range) {
  BOOST_TEST(valid_amount(1));
  BOOST_TEST(valid_amount(max_money));
  BOOST_TEST(!valid_amount(0));
  BOOST_TEST(!valid_amount(-1));
  BOOST_TEST(!valid_amount(max_money + 1));
  BOOST_TEST(valid_quantity(1));
  BOOST_TEST(valid_quantity(max_quantity));
  BOOST_TEST(!valid_quantity(0));
  BOOST_TEST(!valid_quantity(max_quantity + 1));
  BOOST_TEST(valid_currency("EUR"));
  BOOST_TEST(!valid_currency("EU"));
  BOOST_TEST(!valid_currency("EURO"));
  BOOST_TEST(!valid_currency("eUR"));
}

// The same rules through the HTTP parser: what it accepts the order check accepts.
BOOST_AUTO_TEST_CASE(a_create_and_the_order_check_agree_on_skus) {
  for (auto sku : {times(e_acute, max_sku_length), std::string(max_sku_length, 's')}) {
    auto parsed = parse_create_order(R"({"user_id":")" + order_id + R"(","currency":"EUR",)"
                                     R"("total_amount":25.00,"items":[{"sku_id":")"
                                     + sku + R"(","quantity":2,"price":12.50}]})");
    BOOST_REQUIRE(std::holds_alternative<create_order_request>(parsed));
    BOOST_TEST(check_order_item(std::get<create_order_request>(parsed).items[0]).empty());
  }
  auto over = parse_create_order(R"({"user_id":")" + order_id + R"(","currency":"EUR",)"
                                 R"("total_amount":25.00,"items":[{"sku_id":")"
                                 + times(e_acute, max_sku_length + 1)
                                 + R"(","quantity":2,"price":12.50}]})");
  BOOST_TEST(std::holds_alternative<api_error>(over));
}

BOOST_AUTO_TEST_CASE(a_cancel_is_judged_as_the_api_does) {
  BOOST_TEST(check_cancel(order_id, "USER_CANCEL", "").empty());
  BOOST_TEST(check_cancel(order_id, "STOCK_EXHAUSTED", event_id).empty());
  BOOST_TEST(!check_cancel(order_id, "PAYMENT_FAILED", "").empty());
  BOOST_TEST(!check_cancel(order_id, "", "").empty());
  BOOST_TEST(!check_cancel(order_id, "USER_CANCEL", "someone").empty());
  BOOST_TEST(!check_cancel("", "USER_CANCEL", "").empty());
  for (auto reason : {"USER_CANCEL", "STOCK_EXHAUSTED", "PAYMENT_FAILED", "user_cancel"}) {
    auto http = parse_cancel_reason(std::string{R"({"reason":")"} + reason + "\"}");
    BOOST_TEST(std::holds_alternative<std::string>(http) == valid_cancel_reason(reason), reason);
  }
}

BOOST_AUTO_TEST_SUITE_END()
