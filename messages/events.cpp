#include "messages/events.hpp"

#include "messages/utf8.hpp"
#include "messages/uuid.hpp"
#include "messages/validation.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cstdio>
#include <utility>
#include <vector>

namespace flashsale {

namespace {

constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t ms_per_minute = 60 * ms_per_second;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;
constexpr std::int64_t ms_per_day = 24 * ms_per_hour;
constexpr int schema_version = 1;

// --- calendar arithmetic (proleptic Gregorian, no locale or TZ involved) -------------
// Years are shifted to start in March so the leap day is the last day of a year, and
// counted in 400-year eras of 146097 days each.

constexpr std::int64_t days_per_era = 146097;
constexpr std::int64_t epoch_shift = 719468; // days from 0000-03-01 to 1970-01-01

struct civil_date {
  std::int64_t year;
  int month; // 1-12
  int day;   // 1-31
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  std::int64_t era = floor_div(year, 400);
  std::int64_t year_of_era = year - era * 400;
  std::int64_t month_from_march = month > 2 ? month - 3 : month + 9;
  std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  std::int64_t day_of_era =
    year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * days_per_era + day_of_era - epoch_shift;
}

civil_date civil_from_days(std::int64_t days) {
  days += epoch_shift;
  std::int64_t era = floor_div(days, days_per_era);
  std::int64_t day_of_era = days - era * days_per_era;
  std::int64_t year_of_era =
    (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  std::int64_t day_of_year =
    day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  int month = static_cast<int>(month_from_march < 10 ? month_from_march + 3
                                                     : month_from_march - 9);
  return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool is_leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
  constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

// --- RFC 3339 reading -----------------------------------------------------------------

/// Reads the text left to right; any mismatch makes ok false for good.
class rfc3339_cursor {
public:
  explicit rfc3339_cursor(std::string_view text) : rest_(text) {
  }
  /// Exactly `width` decimal digits.
  int number(std::size_t width) {
    int value = 0;
    for (std::size_t i = 0; i < width; ++i)
      value = value * 10 + digit();
    return value;
  }
  void expect(std::string_view choices) {
    if (!ok_ || rest_.empty() || choices.find(rest_.front()) == std::string_view::npos)
      ok_ = false;
    else
      rest_.remove_prefix(1);
  }
  bool accept(char c) {
    if (!ok_ || rest_.empty() || rest_.front() != c)
      return false;
    rest_.remove_prefix(1);
    return true;
  }
  /// The fraction after '.', as milliseconds; digits past the third are dropped.
  int milliseconds() {
    int ms = 0;
    std::size_t n = 0;
    for (; !rest_.empty() && is_digit(rest_.front()); ++n) {
      int d = digit();
      if (n < 3)
        ms = ms * 10 + d;
    }
    ok_ = ok_ && n > 0;
    for (; n < 3; ++n)
      ms *= 10;
    return ms;
  }
  char peek() const {
    return rest_.empty() ? '\0' : rest_.front();
  }
  bool done() const {
    return ok_ && rest_.empty();
  }

private:
  static bool is_digit(char c) {
    return c >= '0' && c <= '9';
  }
  int digit() {
    if (!ok_ || rest_.empty() || !is_digit(rest_.front())) {
      ok_ = false;
      return 0;
    }
    int d = rest_.front() - '0';
    rest_.remove_prefix(1);
    return d;
  }

  std::string_view rest_;
  bool ok_ = true;
};

/// "Z" or "±hh:mm" as milliseconds east of UTC; nullopt when malformed.
std::optional<std::int64_t> utc_offset_ms(rfc3339_cursor& c) {
  if (c.peek() == 'Z' || c.peek() == 'z') {
    c.expect("Zz");
    return 0;
  }
  bool west = c.peek() == '-';
  c.expect("+-");
  int hours = c.number(2);
  c.expect(":");
  int minutes = c.number(2);
  if (hours > 23 || minutes > 59)
    return std::nullopt;
  std::int64_t offset = hours * ms_per_hour + minutes * ms_per_minute;
  return west ? -offset : offset;
}

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

std::string rfc3339_ms(std::int64_t unix_ms) {
  std::int64_t days = floor_div(unix_ms, ms_per_day);
  std::int64_t ms_of_day = unix_ms - days * ms_per_day;
  auto date = civil_from_days(days);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<int>(ms_of_day / ms_per_hour),
                static_cast<int>(ms_of_day % ms_per_hour / ms_per_minute),
                static_cast<int>(ms_of_day % ms_per_minute / ms_per_second),
                static_cast<int>(ms_of_day % ms_per_second));
  return buf.data();
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) {
  rfc3339_cursor c(text);
  int year = c.number(4);
  c.expect("-");
  int month = c.number(2);
  c.expect("-");
  int day = c.number(2);
  c.expect("Tt ");
  int hour = c.number(2);
  c.expect(":");
  int minute = c.number(2);
  c.expect(":");
  int second = c.number(2);
  int ms = c.accept('.') ? c.milliseconds() : 0;
  auto offset = utc_offset_ms(c);
  if (!c.done() || !offset || month < 1 || month > 12 || day < 1
      || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  return days_from_civil(year, month, day) * ms_per_day + hour * ms_per_hour
         + minute * ms_per_minute + second * ms_per_second + ms - *offset;
}

outgoing_event make_order_created(const order& o, std::int64_t now_ms) {
  return make_event(order_event::order_created, o.id, now_ms, [&o](json_writer& w) {
    put(w, "user_id", o.user_id);
    put_money(w, "total_amount", o.total_amount);
    put(w, "currency", o.currency);
    put_items(w, o.items);
    put(w, "created_at", rfc3339_ms(o.created_at * ms_per_second));
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
