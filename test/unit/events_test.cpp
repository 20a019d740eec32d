#include "messages/events.hpp"
#include "messages/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <set>
#include <vector>

using namespace flashsale;

namespace {

const std::string order_id = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";
const std::string event_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
constexpr std::int64_t now = 1767225600123; // 2026-01-01T00:00:00.123Z

std::string str(const rapidjson::Value& v) {
  BOOST_TEST_REQUIRE(v.IsString());
  return {v.GetString(), v.GetStringLength()};
}

/// Parses an envelope and checks the members common to every event.
rapidjson::Document envelope_of(const outgoing_event& e, const char* type) {
  rapidjson::Document doc;
  doc.Parse(e.envelope.data(), e.envelope.size());
  BOOST_TEST_REQUIRE(!doc.HasParseError(), e.envelope);
  BOOST_TEST_REQUIRE(doc.IsObject());
  BOOST_TEST(doc.MemberCount() == 5u);
  BOOST_TEST(str(doc["event_id"]) == e.event_id);
  BOOST_TEST(normalize_uuid(e.event_id).value_or("") == e.event_id);
  BOOST_TEST(e.event_id[14] == '7'); // UUIDv7
  BOOST_TEST(str(doc["event_type"]) == type);
  BOOST_TEST(e.event_type == type);
  BOOST_TEST(str(doc["occurred_at"]) == "2026-01-01T00:00:00.123Z");
  BOOST_TEST_REQUIRE(doc["schema_version"].IsInt());
  BOOST_TEST(doc["schema_version"].GetInt() == 1);
  BOOST_TEST_REQUIRE(doc["payload"].IsObject());
  BOOST_TEST(str(doc["payload"]["order_id"]) == order_id);
  BOOST_TEST(e.order_id == order_id);
  return doc;
}

order sample_order() {
  order o;
  o.id = order_id;
  o.user_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  o.currency = "EUR";
  o.total_amount = 3005;
  o.items = {{"SKU-1", 2, 1250}, {"SKU-\"2\"", 1, 505}};
  o.created_at = 1767225600;
  o.updated_at = 1767225600;
  o.expired_at = 1767225900;
  return o;
}

/// An incoming envelope; payload members are raw JSON text after order_id.
std::string incoming(const std::string& type, const std::string& payload_rest = "",
                     const std::string& occurred = R"("2026-01-01T00:00:00.500Z")") {
  return R"({"event_id":")" + event_id + R"(","event_type":")" + type
         + R"(","occurred_at":)" + occurred + R"(,"schema_version":1,"payload":{"order_id":")"
         + order_id + '"' + payload_rest + "}}";
}

incoming_event decoded(const std::string& value) {
  auto r = decode_incoming(value);
  if (auto* e = std::get_if<decode_error>(&r))
    BOOST_FAIL("not decoded: " << e->detail << " in " << value.substr(0, 200));
  return std::get<incoming_event>(r);
}

decode_error failure_of(const std::string& value) {
  auto r = decode_incoming(value);
  BOOST_TEST_REQUIRE(std::holds_alternative<decode_error>(r), "decoded: " << value);
  return std::get<decode_error>(r);
}

const char* failure_name(decode_failure f) {
  switch (f) {
    case decode_failure::not_json:
      return "not_json";
    case decode_failure::bad_envelope:
      return "bad_envelope";
    case decode_failure::invalid_order_id:
      return "invalid_order_id";
  }
  return "?";
}

void check_failure(const std::string& value, decode_failure expected) {
  BOOST_TEST_CONTEXT(value.substr(0, 200)) {
    auto e = failure_of(value);
    BOOST_TEST(failure_name(e.failure) == failure_name(expected), e.detail);
    BOOST_TEST(e.detail.rfind(failure_name(expected), 0) == 0u, e.detail);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(events_suite)

// --- outgoing ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(order_created_carries_the_order) {
  auto e = make_order_created(sample_order(), now);
  auto doc = envelope_of(e, "ORDER_CREATED");
  const auto& p = doc["payload"];
  BOOST_TEST(p.MemberCount() == 6u);
  BOOST_TEST(str(p["user_id"]) == "7c9e6679-7425-40de-944b-e07fc1f90ae7");
  BOOST_TEST(str(p["currency"]) == "EUR");
  BOOST_TEST(str(p["created_at"]) == "2026-01-01T00:00:00.000Z");
  BOOST_TEST_REQUIRE(p["items"].IsArray());
  BOOST_TEST_REQUIRE(p["items"].Size() == 2u);
  BOOST_TEST(str(p["items"][1]["sku_id"]) == "SKU-\"2\"");
  BOOST_TEST(p["items"][0]["quantity"].GetInt() == 2);
  BOOST_TEST(p["total_amount"].IsNumber());
  // Money is a JSON number with two decimals, written from integers.
  BOOST_TEST(e.envelope.find(R"("total_amount":30.05,)") != std::string::npos, e.envelope);
  BOOST_TEST(e.envelope.find(R"("quantity":2,"price":12.50})") != std::string::npos,
             e.envelope);
  BOOST_TEST(e.envelope.find(R"("price":5.05})") != std::string::npos, e.envelope);
}

BOOST_AUTO_TEST_CASE(envelope_starts_with_the_contract_members_in_order) {
  auto e = make_order_paid(order_id, now);
  BOOST_TEST(e.envelope
             == R"({"event_id":")" + e.event_id
                  + R"(","event_type":"ORDER_PAID","occurred_at":"2026-01-01T00:00:00.123Z",)"
                    R"("schema_version":1,"payload":{"order_id":")"
                  + order_id + R"(","paid_at":"2026-01-01T00:00:00.123Z"}})");
}

BOOST_AUTO_TEST_CASE(order_cancelled_has_reason_and_time) {
  auto e = make_order_cancelled(order_id, "STOCK_EXHAUSTED", now);
  auto doc = envelope_of(e, "ORDER_CANCELLED");
  const auto& p = doc["payload"];
  BOOST_TEST(p.MemberCount() == 3u);
  BOOST_TEST(str(p["reason"]) == "STOCK_EXHAUSTED");
  BOOST_TEST(str(p["cancelled_at"]) == "2026-01-01T00:00:00.123Z");
}

BOOST_AUTO_TEST_CASE(order_expired_has_reason_and_time) {
  auto e = make_order_expired(order_id, "PAYMENT_TTL", now);
  auto doc = envelope_of(e, "ORDER_EXPIRED");
  const auto& p = doc["payload"];
  BOOST_TEST(p.MemberCount() == 3u);
  BOOST_TEST(str(p["reason"]) == "PAYMENT_TTL");
  BOOST_TEST(str(p["expired_at"]) == "2026-01-01T00:00:00.123Z");
}

BOOST_AUTO_TEST_CASE(order_paid_has_time) {
  auto doc = envelope_of(make_order_paid(order_id, now), "ORDER_PAID");
  BOOST_TEST(doc["payload"].MemberCount() == 2u);
  BOOST_TEST(str(doc["payload"]["paid_at"]) == "2026-01-01T00:00:00.123Z");
}

BOOST_AUTO_TEST_CASE(order_payment_rejected_names_the_intent) {
  auto e = make_order_payment_rejected(order_id, "pi_123", "ORDER_EXPIRED", now);
  auto doc = envelope_of(e, "ORDER_PAYMENT_REJECTED");
  const auto& p = doc["payload"];
  BOOST_TEST(p.MemberCount() == 3u);
  BOOST_TEST(str(p["payment_intent_id"]) == "pi_123");
  BOOST_TEST(str(p["reason"]) == "ORDER_EXPIRED");
}

BOOST_AUTO_TEST_CASE(every_event_gets_a_fresh_id) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i)
    ids.insert(make_order_paid(order_id, now).event_id);
  BOOST_TEST(ids.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(strings_in_payloads_are_escaped) {
  auto e = make_order_payment_rejected(order_id, "pi\"\\\n\x01", "ORDER_CANCELLED", now);
  auto doc = envelope_of(e, "ORDER_PAYMENT_REJECTED");
  BOOST_TEST(str(doc["payload"]["payment_intent_id"]) == "pi\"\\\n\x01");
}

BOOST_AUTO_TEST_CASE(our_envelopes_decode_with_our_decoder) {
  auto e = make_order_payment_rejected(order_id, "pi_9", "ORDER_CANCELLED", now);
  auto in = decoded(e.envelope);
  BOOST_TEST(in.event_id == e.event_id);
  BOOST_TEST(in.event_type == "ORDER_PAYMENT_REJECTED");
  BOOST_TEST(in.order_id == order_id);
  BOOST_TEST(in.payment_intent_id == "pi_9");
  BOOST_TEST(in.reason == "ORDER_CANCELLED");
  BOOST_TEST(in.occurred_at_ms == now);
}

// --- incoming ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(decodes_every_incoming_type) {
  auto reserved = decoded(incoming(
    "INVENTORY_RESERVED",
    R"(,"items":[{"item_id":"SKU-1","quantity":2}],"reservation_expires_at":"2026-01-01T00:02:00Z")"));
  BOOST_TEST(reserved.event_id == event_id);
  BOOST_TEST(reserved.event_type == "INVENTORY_RESERVED");
  BOOST_TEST(reserved.order_id == order_id);
  BOOST_TEST(reserved.payment_intent_id.empty());
  BOOST_TEST(reserved.reason.empty());
  BOOST_TEST(reserved.occurred_at_ms == 1767225600500);

  auto failed = decoded(incoming("INVENTORY_RESERVATION_FAILED",
                                 R"(,"failed_items":[{"item_id":"SKU-1"}],"reason":"OUT_OF_STOCK")"));
  BOOST_TEST(failed.reason == "OUT_OF_STOCK");

  auto released = decoded(incoming("INVENTORY_RELEASED", R"(,"items":[],"reason":"ORDER_CANCELLED")"));
  BOOST_TEST(released.event_type == "INVENTORY_RELEASED");

  auto intent = decoded(incoming(
    "PAYMENT_INTENT_CREATED",
    R"(,"payment_intent_id":"pi_1","amount":30.05,"currency":"USD","expires_at":"2026-01-01T00:10:00Z")"));
  BOOST_TEST(intent.payment_intent_id == "pi_1");

  auto paid = decoded(incoming(
    "PAYMENT_SUCCEEDED",
    R"(,"payment_intent_id":"pi_1","gateway_event_id":"gw_1","paid_at":"2026-01-01T00:01:00Z")"));
  BOOST_TEST(paid.payment_intent_id == "pi_1");

  auto declined = decoded(incoming(
    "PAYMENT_FAILED", R"(,"payment_intent_id":"pi_1","gateway_event_id":"gw_2","reason":"CARD_DECLINED")"));
  BOOST_TEST(declined.payment_intent_id == "pi_1");
  BOOST_TEST(declined.reason == "CARD_DECLINED");
}

BOOST_AUTO_TEST_CASE(uuids_are_lower_cased) {
  std::string value = R"({"event_id":"7C9E6679-7425-40DE-944B-E07FC1F90AE7","event_type":"PAYMENT_SUCCEEDED","payload":{"order_id":"0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E"}})";
  auto e = decoded(value);
  BOOST_TEST(e.event_id == event_id);
  BOOST_TEST(e.order_id == order_id);
}

BOOST_AUTO_TEST_CASE(unknown_types_and_extra_members_still_decode) {
  auto e = decoded(R"({"event_id":")" + event_id
                   + R"(","event_type":"SOMETHING_NEW","extra":{"a":[1,2]},"payload":{"order_id":")"
                   + order_id + R"(","x":null}})");
  BOOST_TEST(e.event_type == "SOMETHING_NEW");
}

BOOST_AUTO_TEST_CASE(occurred_at_is_optional_and_never_fatal) {
  BOOST_TEST(decoded(incoming("PAYMENT_SUCCEEDED", "", R"("yesterday")")).occurred_at_ms == 0);
  BOOST_TEST(decoded(incoming("PAYMENT_SUCCEEDED", "", "12345")).occurred_at_ms == 0);
  BOOST_TEST(decoded(incoming("PAYMENT_SUCCEEDED", "", "null")).occurred_at_ms == 0);
  BOOST_TEST(decoded(incoming("PAYMENT_SUCCEEDED", "", R"("2026-01-01T01:00:00+01:00")"))
               .occurred_at_ms
             == 1767225600000);
  auto no_time = R"({"event_id":")" + event_id
                 + R"(","event_type":"PAYMENT_SUCCEEDED","payload":{"order_id":")" + order_id
                 + R"("}})";
  BOOST_TEST(decoded(no_time).occurred_at_ms == 0);
}

BOOST_AUTO_TEST_CASE(ill_typed_optional_payload_members_are_left_empty) {
  auto e = decoded(incoming("PAYMENT_FAILED", R"(,"payment_intent_id":42,"reason":{"code":"X"})"));
  BOOST_TEST(e.payment_intent_id.empty());
  BOOST_TEST(e.reason.empty());
}

BOOST_AUTO_TEST_CASE(unparseable_values_are_not_json) {
  for (std::string value : {"", " ", "garbage", "{", R"({"event_id":)", "[1,2]", "[]",
                            R"("a string")", "42", "null", "true", "{}{}", "{} x",
                            R"({"a":1,})"}) {
    check_failure(value, decode_failure::not_json);
  }
  check_failure(incoming("PAYMENT_SUCCEEDED") + std::string(1, '\0') + "x",
                decode_failure::not_json);
  check_failure(incoming("PAYMENT_SUCCEEDED", ",\"x\":\"\xff\""), decode_failure::not_json);
}

// Incoming strings are echoed into our own events (ORDER_PAYMENT_REJECTED): a lone
// surrogate escape anywhere makes the message poison.
BOOST_AUTO_TEST_CASE(escaped_lone_surrogates_are_not_json) {
  check_failure(incoming("PAYMENT_SUCCEEDED", R"(,"payment_intent_id":"pi_\udc00")"),
                decode_failure::not_json);
  check_failure(incoming("PAYMENT_FAILED", R"(,"reason":"\ud800")"), decode_failure::not_json);
  check_failure(incoming("PAYMENT_SUCCEEDED", R"(,"extra":{"deep":["\udfff"]})"),
                decode_failure::not_json);
  check_failure(incoming("PAYMENT_SUCCEEDED", R"(,"\udc00":1)"), decode_failure::not_json);
  auto e = decoded(incoming("PAYMENT_SUCCEEDED", R"(,"payment_intent_id":"pi_\ud83d\ude00")"));
  BOOST_TEST(e.payment_intent_id == "pi_\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(incoming_fields_have_length_caps) {
  auto intent = [](std::size_t n) {
    return incoming("PAYMENT_SUCCEEDED", R"(,"payment_intent_id":")" + std::string(n, 'p') + '"');
  };
  BOOST_TEST(decoded(intent(max_payment_intent_id_length)).payment_intent_id.size()
             == max_payment_intent_id_length);
  check_failure(intent(max_payment_intent_id_length + 1), decode_failure::bad_envelope);
  // Characters, not bytes.
  std::string wide;
  for (std::size_t i = 0; i < max_payment_intent_id_length; ++i)
    wide += "\xc3\xa9";
  BOOST_TEST(decoded(incoming("PAYMENT_SUCCEEDED", R"(,"payment_intent_id":")" + wide + '"'))
               .payment_intent_id == wide);
  auto reason = [](std::size_t n) {
    return incoming("PAYMENT_FAILED", R"(,"reason":")" + std::string(n, 'r') + '"');
  };
  BOOST_TEST(decoded(reason(max_event_reason_length)).reason.size() == max_event_reason_length);
  check_failure(reason(max_event_reason_length + 1), decode_failure::bad_envelope);
  check_failure(incoming(std::string(max_event_type_length + 1, 'T')), decode_failure::bad_envelope);
  BOOST_TEST(decoded(incoming(std::string(max_event_type_length, 'T'))).event_type.size()
             == max_event_type_length);
}

BOOST_AUTO_TEST_CASE(a_utf8_byte_order_mark_is_tolerated) {
  BOOST_TEST(decoded("\xef\xbb\xbf" + incoming("PAYMENT_SUCCEEDED")).order_id == order_id);
}

BOOST_AUTO_TEST_CASE(numbers_beyond_double_range_make_the_value_unparseable) {
  check_failure(incoming("PAYMENT_INTENT_CREATED", R"(,"amount":1e400)"),
                decode_failure::not_json);
}

BOOST_AUTO_TEST_CASE(deep_nesting_does_not_crash) {
  check_failure(std::string(100000, '['), decode_failure::not_json);
  check_failure(std::string(100000, '{'), decode_failure::not_json);
  // Valid but absurdly deep: parsed and freed without recursion.
  auto deep = std::string(100000, '[') + std::string(100000, ']');
  check_failure(deep, decode_failure::not_json); // an array, not an object
  auto e = decoded(incoming("PAYMENT_SUCCEEDED", ",\"x\":" + deep));
  BOOST_TEST(e.order_id == order_id);
}

BOOST_AUTO_TEST_CASE(broken_envelopes_are_bad_envelope) {
  const std::string payload = R"("payload":{"order_id":")" + order_id + R"("})";
  const std::string type = R"("event_type":"PAYMENT_SUCCEEDED")";
  const std::string id = R"("event_id":")" + event_id + '"';
  for (std::string value : {
         "{" + type + "," + payload + "}",                                 // no event_id
         R"({"event_id":"nope",)" + type + "," + payload + "}",           // not a UUID
         R"({"event_id":42,)" + type + "," + payload + "}",               // not a string
         R"({"event_id":null,)" + type + "," + payload + "}",
         "{" + id + "," + payload + "}",                                   // no event_type
         "{" + id + R"(,"event_type":7,)" + payload + "}",
         "{" + id + R"(,"event_type":null,)" + payload + "}",
         "{" + id + R"(,"event_type":"",)" + payload + "}",
         "{" + id + "," + type + "}",                                      // no payload
         "{" + id + "," + type + R"(,"payload":[])" + "}",
         "{" + id + "," + type + R"(,"payload":"{}")" + "}",
         "{" + id + "," + type + R"(,"payload":null)" + "}",
         std::string("{}"),
       }) {
    check_failure(value, decode_failure::bad_envelope);
  }
}

BOOST_AUTO_TEST_CASE(missing_or_invalid_order_id_is_invalid_order_id) {
  const std::string head = R"({"event_id":")" + event_id + R"(","event_type":"PAYMENT_SUCCEEDED",)";
  for (std::string payload : {R"({})", R"({"order_id":null})", R"({"order_id":42})",
                              R"({"order_id":"abc"})", R"({"order_id":""})",
                              R"({"order_id":"0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6"})",
                              R"({"orderId":"0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e"})"}) {
    check_failure(head + R"("payload":)" + payload + "}", decode_failure::invalid_order_id);
  }
}

BOOST_AUTO_TEST_CASE(envelope_problems_are_reported_before_order_id_problems) {
  check_failure(R"({"event_id":"bad","event_type":"PAYMENT_SUCCEEDED","payload":{"order_id":"bad"}})",
                decode_failure::bad_envelope);
}

BOOST_AUTO_TEST_CASE(triggers_for_incoming_types) {
  BOOST_TEST((trigger_for("INVENTORY_RESERVED") == order_trigger::inventory_reserved));
  BOOST_TEST((trigger_for("INVENTORY_RESERVATION_FAILED") == order_trigger::reservation_failed));
  BOOST_TEST((trigger_for("PAYMENT_INTENT_CREATED") == order_trigger::payment_intent_created));
  BOOST_TEST((trigger_for("PAYMENT_SUCCEEDED") == order_trigger::payment_succeeded));
  BOOST_TEST((trigger_for("PAYMENT_FAILED") == order_trigger::payment_failed));
  BOOST_TEST(!trigger_for("INVENTORY_RELEASED").has_value());
  for (const char* other : {"", "ORDER_CREATED", "ORDER_PAID", "payment_succeeded",
                            "PAYMENT_SUCCEEDED ", "SOMETHING_NEW"})
    BOOST_TEST(!trigger_for(other).has_value(), other);
}

BOOST_AUTO_TEST_CASE(known_incoming_types_are_the_six_of_the_contract) {
  for (const char* known : {"INVENTORY_RESERVED", "INVENTORY_RESERVATION_FAILED",
                            "INVENTORY_RELEASED", "PAYMENT_INTENT_CREATED",
                            "PAYMENT_SUCCEEDED", "PAYMENT_FAILED"})
    BOOST_TEST(is_known_incoming_type(known), known);
  for (const char* unknown : {"", "ORDER_CREATED", "ORDER_CANCELLED", "ORDER_PAYMENT_REJECTED",
                              "inventory_reserved", "PAYMENT_REFUNDED"})
    BOOST_TEST(!is_known_incoming_type(unknown), unknown);
}

BOOST_AUTO_TEST_CASE(topic_names_match_the_contract) {
  BOOST_TEST(std::string(topics::order_events) == "order.v1.events");
  BOOST_TEST(std::string(topics::inventory_events) == "inventory.v1.events");
  BOOST_TEST(std::string(topics::payment_events) == "payment.v1.events");
  BOOST_TEST(std::string(topics::order_dlq) == "order.v1.dlq");
}

BOOST_AUTO_TEST_CASE(a_held_event_decodes_back_to_itself) {
  incoming_event e;
  e.event_id = event_id;
  e.event_type = "PAYMENT_SUCCEEDED";
  e.order_id = order_id;
  e.payment_intent_id = "pi \"quoted\" \\ \u00e9";
  e.reason = "CARD_DECLINED";
  e.occurred_at_ms = now;
  auto back = decode_incoming(encode_incoming(e));
  BOOST_TEST_REQUIRE(std::holds_alternative<incoming_event>(back));
  const auto& d = std::get<incoming_event>(back);
  BOOST_TEST(d.event_id == e.event_id);
  BOOST_TEST(d.event_type == e.event_type);
  BOOST_TEST(d.order_id == e.order_id);
  BOOST_TEST(d.payment_intent_id == e.payment_intent_id);
  BOOST_TEST(d.reason == e.reason);
  BOOST_TEST(d.occurred_at_ms == e.occurred_at_ms);
  e.payment_intent_id.clear(); // optional members stay absent
  e.reason.clear();
  BOOST_TEST(encode_incoming(e).find("reason") == std::string::npos);
  BOOST_TEST(encode_incoming(e).find("traceparent") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_held_event_keeps_its_traceparent) {
  incoming_event e;
  e.event_id = event_id;
  e.event_type = "PAYMENT_SUCCEEDED";
  e.order_id = order_id;
  e.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto back = decode_incoming(encode_incoming(e));
  BOOST_TEST_REQUIRE(std::holds_alternative<incoming_event>(back));
  BOOST_TEST(std::get<incoming_event>(back).traceparent == e.traceparent);
  // A malformed one in a body is dropped, not trusted.
  auto odd = decode_incoming(R"({"event_id":")" + std::string{event_id}
                             + R"(","event_type":"PAYMENT_SUCCEEDED","traceparent":"x",)"
                               R"("payload":{"order_id":")"
                             + std::string{order_id} + R"("}})");
  BOOST_TEST_REQUIRE(std::holds_alternative<incoming_event>(odd));
  BOOST_TEST(std::get<incoming_event>(odd).traceparent.empty());
}

BOOST_AUTO_TEST_SUITE_END()
