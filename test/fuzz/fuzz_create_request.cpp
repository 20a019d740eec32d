// libFuzzer target: the create request parser (messages/create_order.cpp) and the
// command built from it (http/requests.cpp). Properties checked on every input:
//  * an accepted request meets every rule of CONTRACT §3 (UUID, currency, 1–100 items,
//    quantities, positive money within max_money, total = Σ quantity × price, SKUs of
//    1–64 characters without control characters) and all its strings are valid UTF-8;
//  * parse → serialise → parse is the identity, with the same fingerprint;
//  * the command's ORDER_CREATED envelope and the order JSON are valid UTF-8 and the
//    envelope decodes again with the order's id;
//  * a refusal is 400 INVALID_REQUEST/VALIDATION_FAILED, or 413 exactly when the body
//    is over 64 KiB, and its message is valid UTF-8 (it is echoed to the client);
//  * the cancel body parser yields USER_CANCEL, STOCK_EXHAUSTED or a 400.

#include "fuzz_support.hpp"

#include "http/requests.hpp"
#include "messages/create_order.hpp"
#include "messages/events.hpp"
#include "messages/money.hpp"
#include "messages/uuid.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <variant>

using namespace flashsale;
using flashsale::fuzz::acceptable_string;
using flashsale::fuzz::shown;

namespace {

std::string serialise(const create_order_request& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto money = [&w](minor_units m) {
    auto text = format_money(m);
    w.RawValue(text.data(), text.size(), rapidjson::kNumberType);
  };
  w.StartObject();
  w.Key("user_id");
  str(r.user_id);
  w.Key("currency");
  str(r.currency);
  w.Key("total_amount");
  money(r.total_amount);
  w.Key("items");
  w.StartArray();
  for (const auto& item : r.items) {
    w.StartObject();
    w.Key("sku_id");
    str(item.sku_id);
    w.Key("quantity");
    w.Int(item.quantity);
    w.Key("price");
    money(item.price);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

bool same(const create_order_request& a, const create_order_request& b) {
  if (a.user_id != b.user_id || a.currency != b.currency || a.total_amount != b.total_amount
      || a.items.size() != b.items.size())
    return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (a.items[i].sku_id != b.items[i].sku_id || a.items[i].quantity != b.items[i].quantity
        || a.items[i].price != b.items[i].price)
      return false;
  return true;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

void check_accepted(const create_order_request& r, std::string_view body) {
  auto uid = normalize_uuid(r.user_id);
  FUZZ_CHECK(uid && *uid == r.user_id, "user_id not a lower-case UUID: " + shown(r.user_id));
  FUZZ_CHECK(r.currency.size() == 3 && r.currency.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                                         == std::string::npos,
             "currency " + shown(r.currency));
  FUZZ_CHECK(r.total_amount > 0 && r.total_amount <= max_money,
             "total_amount " + std::to_string(r.total_amount));
  FUZZ_CHECK(!r.items.empty() && r.items.size() <= max_items,
             std::to_string(r.items.size()) + " items");
  __int128 sum = 0;
  for (const auto& item : r.items) {
    FUZZ_CHECK(item.quantity >= 1 && item.quantity <= max_quantity,
               "quantity " + std::to_string(item.quantity));
    FUZZ_CHECK(item.price > 0 && item.price <= max_money, "price " + std::to_string(item.price));
    auto chars = code_points(item.sku_id);
    FUZZ_CHECK(chars >= 1 && chars <= max_sku_length, "sku_id length " + shown(item.sku_id));
    for (char c : item.sku_id)
      FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f,
                 "control character in sku_id " + shown(item.sku_id));
    FUZZ_CHECK(acceptable_string(item.sku_id),
               "accepted sku_id is not valid UTF-8: " + shown(item.sku_id) + " from body "
                 + shown(body));
    sum += static_cast<__int128>(item.quantity) * item.price;
  }
  FUZZ_CHECK(sum == r.total_amount, "total_amount != sum of quantity * price");

  // parse -> serialise -> parse is the identity. A surrogate code point cannot make it
  // through a second parse (RapidJSON refuses it as raw bytes), so while such strings
  // are still accepted (strict_unicode off) that case is left to acceptable_string.
  bool surrogates = false;
  for (const auto& item : r.items)
    surrogates = surrogates || fuzz::has_surrogate(item.sku_id);
  if (!surrogates) {
    auto text = serialise(r);
    auto again = parse_create_order(text);
    FUZZ_CHECK(std::holds_alternative<create_order_request>(again),
               "re-serialised request refused: " + shown(text) + " -> "
                 + std::get<api_error>(again).message);
    const auto& r2 = std::get<create_order_request>(again);
    FUZZ_CHECK(same(r, r2), "round trip changed the request: " + shown(text));
    FUZZ_CHECK(request_fingerprint(r) == request_fingerprint(r2), "fingerprint changed");
  }

  auto cmd = http::make_create_command(r, "fuzz-key", 1'767'225'600'000, std::chrono::seconds{900});
  FUZZ_CHECK(cmd.fresh.user_id == r.user_id && cmd.fresh.total_amount == r.total_amount
               && cmd.fresh.items.size() == r.items.size() && cmd.fingerprint == request_fingerprint(r),
             "command differs from the request");
  FUZZ_CHECK(acceptable_string(cmd.created_event.envelope),
             "ORDER_CREATED envelope is not valid UTF-8: " + shown(cmd.created_event.envelope));
  auto json = order_to_json(cmd.fresh);
  FUZZ_CHECK(acceptable_string(json), "order JSON is not valid UTF-8: " + shown(json));
  if (!surrogates) {
    auto decoded = decode_incoming(cmd.created_event.envelope);
    FUZZ_CHECK(std::holds_alternative<incoming_event>(decoded),
               "own ORDER_CREATED envelope does not decode: "
                 + std::get<decode_error>(decoded).detail);
    FUZZ_CHECK(std::get<incoming_event>(decoded).order_id == cmd.fresh.id, "order_id changed");
  }
}

void check_refused(const api_error& e, std::string_view body) {
  bool too_large = body.size() > max_body_bytes;
  FUZZ_CHECK((e.code == error_code::payload_too_large) == too_large,
             "413 iff over 64 KiB: " + e.message);
  FUZZ_CHECK(too_large || e.code == error_code::invalid_request
               || e.code == error_code::validation_failed,
             "unexpected code " + std::string{to_string(e.code)} + ": " + e.message);
  FUZZ_CHECK(!e.message.empty(), "empty error message");
  FUZZ_CHECK(acceptable_string(e.message),
             "error message (echoed to the client) is not valid UTF-8: " + shown(e.message)
               + " from body " + shown(body));
  auto json = error_body_json(e);
  FUZZ_CHECK(acceptable_string(json), "error body is not valid UTF-8: " + shown(json));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_create_order(body);
  if (auto* r = std::get_if<create_order_request>(&parsed))
    check_accepted(*r, body);
  else
    check_refused(std::get<api_error>(parsed), body);

  auto reason = parse_cancel_reason(body);
  if (auto* s = std::get_if<std::string>(&reason)) {
    FUZZ_CHECK(*s == "USER_CANCEL" || *s == "STOCK_EXHAUSTED", "cancel reason " + shown(*s));
  } else {
    check_refused(std::get<api_error>(reason), body);
  }
  return 0;
}
