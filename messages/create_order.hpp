#pragma once
// Parsing and validation of POST /api/v1/orders (CONTRACT §3). Pure: no I/O.

#include "messages/api_error.hpp"
#include "messages/order.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flashsale {

constexpr std::size_t max_body_bytes = 64 * 1024;
constexpr std::size_t max_items = 100;
constexpr std::int32_t max_quantity = 10000;
constexpr std::size_t max_sku_length = 64;
constexpr std::size_t max_idempotency_key_length = 64;

struct create_order_request {
  std::string user_id; // lower-cased UUID
  std::string currency;
  minor_units total_amount = 0;
  std::vector<order_item> items;
};

/// Parses and validates a create body. Not JSON, wrong JSON types, missing fields,
/// malformed UUID -> INVALID_REQUEST; a value out of range (money <= 0 or with 3
/// decimals, quantity, item count, sku length, currency format, total != Σ q×p)
/// -> VALIDATION_FAILED with a message naming the field (e.g. "items[2].quantity").
/// Money is read from the JSON number's text, never through a double.
std::variant<create_order_request, api_error> parse_create_order(std::string_view body);

/// 1–64 printable ASCII characters (0x21–0x7E and space inside).
bool valid_idempotency_key(std::string_view key);

/// A stable fingerprint of the normalised request (same fields and values -> same
/// fingerprint, whatever the JSON formatting, key order or number spelling), as hex.
std::string request_fingerprint(const create_order_request& r);

/// Parses a cancel body {"reason": "USER_CANCEL" | "STOCK_EXHAUSTED"}. An empty body
/// means USER_CANCEL. Returns the reason or an error (INVALID_REQUEST for non-JSON or
/// wrong types, VALIDATION_FAILED naming "reason" for another value).
std::variant<std::string, api_error> parse_cancel_reason(std::string_view body);

} // namespace flashsale
