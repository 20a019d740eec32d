// libFuzzer target: the incoming event decoder (messages/events.cpp). Properties:
//  * a decoded event has lower-case UUIDs for event_id and order_id, a non-empty
//    event_type, and every string it carries is valid UTF-8; it passes
//    check_incoming_event, the judgement a cluster peer applies to it;
//  * decode → encode → decode is the identity (the fields, and occurred_at whenever it
//    is within the years 0000–9999 RFC 3339 can write);
//  * echoing the decoded payment_intent_id and reason into our own
//    ORDER_PAYMENT_REJECTED gives valid UTF-8 that decodes to the same strings;
//  * a refusal names its class in the dlq_reason detail, which is valid UTF-8;
//  * the trigger table is consistent with is_known_incoming_type;
//  * RFC 3339: whatever parse_rfc3339_ms accepts is written back by rfc3339_ms to a
//    text that parses to the same instant.

#include "fuzz_support.hpp"

#include "messages/events.hpp"
#include "messages/uuid.hpp"
#include "messages/validation.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <variant>

using namespace flashsale;
using flashsale::fuzz::acceptable_string;
using flashsale::fuzz::shown;

namespace {

constexpr std::int64_t min_rfc3339_ms = earliest_time_ms;
constexpr std::int64_t max_rfc3339_ms = latest_time_ms;

std::string encode(const incoming_event& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto put = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  put("event_id", e.event_id);
  put("event_type", e.event_type);
  put("occurred_at", rfc3339_ms(e.occurred_at_ms));
  w.Key("schema_version");
  w.Int(1);
  w.Key("payload");
  w.StartObject();
  put("order_id", e.order_id);
  if (!e.payment_intent_id.empty())
    put("payment_intent_id", e.payment_intent_id);
  if (!e.reason.empty())
    put("reason", e.reason);
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

void check_decoded(const incoming_event& e, std::string_view input) {
  FUZZ_CHECK(canonical_uuid(e.event_id), "event_id " + shown(e.event_id));
  FUZZ_CHECK(canonical_uuid(e.order_id), "order_id " + shown(e.order_id));
  FUZZ_CHECK(!e.event_type.empty(), "empty event_type");
  // What the consumer decodes and forwards, the order's owner accepts (issue 22).
  FUZZ_CHECK(check_incoming_event(e).empty(),
             "decoded event fails the shared check: " + check_incoming_event(e));
  for (const auto* s : {&e.event_type, &e.payment_intent_id, &e.reason})
    FUZZ_CHECK(acceptable_string(*s), "decoded string is not valid UTF-8: " + shown(*s)
                                        + " from " + shown(input));

  bool surrogates = fuzz::has_surrogate(e.event_type) || fuzz::has_surrogate(e.payment_intent_id)
                    || fuzz::has_surrogate(e.reason);
  if (!surrogates) { // see fuzz_create_request.cpp: such text cannot survive a re-parse
    auto text = encode(e);
    auto again = decode_incoming(text);
    FUZZ_CHECK(std::holds_alternative<incoming_event>(again),
               "re-encoded event refused: " + shown(text) + " -> "
                 + std::get<decode_error>(again).detail);
    const auto& e2 = std::get<incoming_event>(again);
    FUZZ_CHECK(e2.event_id == e.event_id && e2.event_type == e.event_type
                 && e2.order_id == e.order_id && e2.payment_intent_id == e.payment_intent_id
                 && e2.reason == e.reason,
               "round trip changed the event: " + shown(text));
    if (e.occurred_at_ms >= min_rfc3339_ms && e.occurred_at_ms <= max_rfc3339_ms)
      FUZZ_CHECK(e2.occurred_at_ms == e.occurred_at_ms,
                 "occurred_at " + std::to_string(e.occurred_at_ms) + " came back as "
                   + std::to_string(e2.occurred_at_ms));
  }

  auto rejected = make_order_payment_rejected(e.order_id, e.payment_intent_id, e.reason, 0);
  FUZZ_CHECK(acceptable_string(rejected.envelope),
             "ORDER_PAYMENT_REJECTED echoes invalid UTF-8: " + shown(rejected.envelope));
  if (!surrogates) {
    auto back = decode_incoming(rejected.envelope);
    FUZZ_CHECK(std::holds_alternative<incoming_event>(back), "own event does not decode");
    const auto& b = std::get<incoming_event>(back);
    FUZZ_CHECK(b.order_id == e.order_id && b.payment_intent_id == e.payment_intent_id
                 && b.reason == e.reason,
               "echoed fields changed");
  }

  bool known = is_known_incoming_type(e.event_type);
  FUZZ_CHECK(!trigger_for(e.event_type) || known, "trigger for an unknown type");
  FUZZ_CHECK(known == (trigger_for(e.event_type) || e.event_type == "INVENTORY_RELEASED"),
             "known type without trigger: " + shown(e.event_type));
}

void check_refused(const decode_error& err) {
  const char* prefix = err.failure == decode_failure::not_json       ? "not_json"
                       : err.failure == decode_failure::bad_envelope ? "bad_envelope"
                                                                     : "invalid_order_id";
  FUZZ_CHECK(err.detail.rfind(prefix, 0) == 0, "detail " + shown(err.detail));
  FUZZ_CHECK(acceptable_string(err.detail), "detail is not valid UTF-8: " + shown(err.detail));
}

void check_rfc3339(std::string_view text) {
  auto ms = parse_rfc3339_ms(text);
  if (!ms)
    return;
  auto written = rfc3339_ms(*ms);
  auto back = parse_rfc3339_ms(written);
  if (*ms >= min_rfc3339_ms && *ms <= max_rfc3339_ms)
    FUZZ_CHECK(back && *back == *ms, "rfc3339 " + shown(text) + " -> " + std::to_string(*ms)
                                       + " -> " + written);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_incoming(input);
  if (auto* e = std::get_if<incoming_event>(&decoded))
    check_decoded(*e, input);
  else
    check_refused(std::get<decode_error>(decoded));
  if (size <= 64)
    check_rfc3339(input);
  return 0;
}
