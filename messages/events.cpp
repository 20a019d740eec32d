#include "messages/events.hpp"

#include "messages/rfc3339.hpp"
#include "messages/trace_context.hpp"
#include "messages/utf8.hpp"
#include "messages/uuid.hpp"
#include "messages/validation.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <utility>
#include <vector>

namespace flashsale {

namespace {

constexpr int schema_version = 1;

// --- envelopes ------------------------------------------------------------------------

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(json_writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void put_money(json_writer& w, const char* key, minor_units m) {
  auto text = format_money(m);
  w.Key(key);
  w.RawValue(text.data(), text.size(), rapidjson::kNumberType);
}

void put_items(json_writer& w, const std::vector<order_item>& items) {
  w.Key("items");
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    put(w, "sku_id", item.sku_id);
    w.Key("quantity");
    w.Int(item.quantity);
    put_money(w, "price", item.price);
    w.EndObject();
  }
  w.EndArray();
}

/// The envelope of CONTRACT §5 around the payload members `write_payload` writes.
template <class WritePayload>
outgoing_event make_event(order_event type, const std::string& order_id,
                          std::int64_t now_ms, WritePayload write_payload) {
  outgoing_event e;
  e.event_id = new_uuid();
  e.event_type = std::string{to_string(type)};
  e.order_id = order_id;
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  put(w, "event_id", e.event_id);
  put(w, "event_type", e.event_type);
  put(w, "occurred_at", rfc3339_ms(now_ms));
  w.Key("schema_version");
  w.Int(schema_version);
  w.Key("payload");
  w.StartObject();
  put(w, "order_id", order_id);
  write_payload(w);
  w.EndObject();
  w.EndObject();
  e.envelope.assign(buf.GetString(), buf.GetSize());
  return e;
}

// --- incoming -------------------------------------------------------------------------

const rapidjson::Value* string_member(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString())
    return nullptr;
  return &it->value;
}

std::string_view text_of(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

std::optional<std::string> uuid_member(const rapidjson::Value& object, const char* key) {
  const auto* v = string_member(object, key);
  return v ? normalize_uuid(text_of(*v)) : std::nullopt;
}

std::string optional_string(const rapidjson::Value& object, const char* key) {
  const auto* v = string_member(object, key);
  return v ? std::string{text_of(*v)} : std::string{};
}

decode_error failed(decode_failure f, std::string detail) {
  return decode_error{f, std::move(detail)};
}

/// Whether every string and member name in the document is valid Unicode: the input's
/// encoding is validated while parsing, not what its \u escapes name (a lone surrogate
/// comes out as bytes that are no UTF-8). Iterative, like the parse.
bool all_strings_unicode(const rapidjson::Value& root) {
  std::vector<const rapidjson::Value*> todo{&root};
  while (!todo.empty()) {
    const auto* v = todo.back();
    todo.pop_back();
    if (v->IsString() && !is_valid_utf8(text_of(*v)))
      return false;
    if (v->IsArray())
      for (const auto& element : v->GetArray())
        todo.push_back(&element);
    if (v->IsObject())
      for (const auto& member : v->GetObject()) {
        todo.push_back(&member.name);
        todo.push_back(&member.value);
      }
  }
  return true;
}

/// occurred_at is informative only: a producer's odd clock text must not cost us the
/// event. Text that is no RFC 3339, or an offset that carries it past year 0000 or
/// 9999 (where our own RFC 3339 text could not name it again), reads as 0: unknown.
std::int64_t occurred_at_ms(const rapidjson::Value& doc) {
  const auto* occurred = string_member(doc, "occurred_at");
  auto ms = occurred ? parse_rfc3339_ms(text_of(*occurred)) : std::nullopt;
  return ms && valid_time_ms(*ms) ? *ms : 0;
}

std::variant<incoming_event, decode_error> decode_envelope(const rapidjson::Value& doc) {
  incoming_event e;
  auto event_id = uuid_member(doc, "event_id");
  if (!event_id)
    return failed(decode_failure::bad_envelope, "bad_envelope: event_id missing or not a UUID");
  e.event_id = std::move(*event_id);
  const auto* type = string_member(doc, "event_type");
  if (!type || type->GetStringLength() == 0)
    return failed(decode_failure::bad_envelope, "bad_envelope: event_type missing or not a string");
  e.event_type = std::string{text_of(*type)};
  auto payload = doc.FindMember("payload");
  if (payload == doc.MemberEnd() || !payload->value.IsObject())
    return failed(decode_failure::bad_envelope, "bad_envelope: payload missing or not an object");
  auto order_id = uuid_member(payload->value, "order_id");
  if (!order_id)
    return failed(decode_failure::invalid_order_id,
                  "invalid_order_id: payload.order_id missing or not a UUID");
  e.order_id = std::move(*order_id);
  e.payment_intent_id = optional_string(payload->value, "payment_intent_id");
  e.reason = optional_string(payload->value, "reason");
  e.occurred_at_ms = occurred_at_ms(doc);
  // The values are judged as a peer's would be (messages/validation.hpp): an event
  // this node decodes and forwards must load on the order's owner.
  if (auto why = check_incoming_event(e); !why.empty())
    return failed(decode_failure::bad_envelope, "bad_envelope: " + why);
  // Only a held body (encode_incoming) has it; the consumer sets it from the header.
  const auto* traceparent = string_member(doc, "traceparent");
  if (traceparent && parse_traceparent(text_of(*traceparent)))
    e.traceparent = std::string{text_of(*traceparent)};
  return e;
}

constexpr std::array<std::pair<std::string_view, order_trigger>, 5> incoming_triggers{{
  {"INVENTORY_RESERVED", order_trigger::inventory_reserved},
  {"INVENTORY_RESERVATION_FAILED", order_trigger::reservation_failed},
  {"PAYMENT_INTENT_CREATED", order_trigger::payment_intent_created},
  {"PAYMENT_SUCCEEDED", order_trigger::payment_succeeded},
  {"PAYMENT_FAILED", order_trigger::payment_failed},
}};

// Known, acknowledged, and deliberately without a transition.
constexpr std::string_view inventory_released = "INVENTORY_RELEASED";

} // namespace

outgoing_event make_order_created(const order& o, std::int64_t now_ms) {
  return make_event(order_event::order_created, o.id, now_ms, [&o](json_writer& w) {
    put(w, "user_id", o.user_id);
    put_money(w, "total_amount", o.total_amount);
    put(w, "currency", o.currency);
    put_items(w, o.items);
    put(w, "created_at", rfc3339_ms(o.created_at * 1000));
  });
}

outgoing_event make_order_cancelled(const std::string& order_id, const std::string& reason,
                                    std::int64_t now_ms) {
  return make_event(order_event::order_cancelled, order_id, now_ms, [&](json_writer& w) {
    put(w, "reason", reason);
    put(w, "cancelled_at", rfc3339_ms(now_ms));
  });
}

outgoing_event make_order_expired(const std::string& order_id, const std::string& reason,
                                  std::int64_t now_ms) {
  return make_event(order_event::order_expired, order_id, now_ms, [&](json_writer& w) {
    put(w, "reason", reason);
    put(w, "expired_at", rfc3339_ms(now_ms));
  });
}

outgoing_event make_order_paid(const std::string& order_id, std::int64_t now_ms) {
  return make_event(order_event::order_paid, order_id, now_ms, [&](json_writer& w) {
    put(w, "paid_at", rfc3339_ms(now_ms));
  });
}

outgoing_event make_order_payment_rejected(const std::string& order_id,
                                           const std::string& payment_intent_id,
                                           const std::string& reason, std::int64_t now_ms) {
  return make_event(order_event::order_payment_rejected, order_id, now_ms,
                    [&](json_writer& w) {
                      put(w, "payment_intent_id", payment_intent_id);
                      put(w, "reason", reason);
                    });
}

std::variant<incoming_event, decode_error> decode_incoming(std::string_view value) {
  // RapidJSON reads NUL as the end of input, so text after one would go unseen.
  if (value.find('\0') != std::string_view::npos)
    return failed(decode_failure::not_json, "not_json: contains a NUL byte");
  rapidjson::Document doc;
  // Iterative: a hostile nesting depth cannot exhaust the stack; the document's pool
  // allocator frees the tree without recursion too.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
    value.data(), value.size());
  if (doc.HasParseError())
    return failed(decode_failure::not_json,
                  "not_json: at byte " + std::to_string(doc.GetErrorOffset()) + ": "
                    + rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject())
    return failed(decode_failure::not_json, "not_json: not a JSON object");
  if (!all_strings_unicode(doc))
    return failed(decode_failure::not_json,
                  "not_json: a string is not valid Unicode (an escaped lone surrogate?)");
  return decode_envelope(doc);
}

std::string encode_incoming(const incoming_event& e) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  put(w, "event_id", e.event_id);
  put(w, "event_type", e.event_type);
  if (e.occurred_at_ms != 0)
    put(w, "occurred_at", rfc3339_ms(e.occurred_at_ms));
  if (!e.traceparent.empty())
    put(w, "traceparent", e.traceparent);
  w.Key("schema_version");
  w.Int(schema_version);
  w.Key("payload");
  w.StartObject();
  put(w, "order_id", e.order_id);
  if (!e.payment_intent_id.empty())
    put(w, "payment_intent_id", e.payment_intent_id);
  if (!e.reason.empty())
    put(w, "reason", e.reason);
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::optional<order_trigger> trigger_for(std::string_view event_type) {
  for (const auto& [type, trigger] : incoming_triggers)
    if (type == event_type)
      return trigger;
  return std::nullopt;
}

bool is_known_incoming_type(std::string_view event_type) {
  return event_type == inventory_released || trigger_for(event_type).has_value();
}

} // namespace flashsale
