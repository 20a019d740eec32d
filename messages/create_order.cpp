#include "messages/create_order.hpp"

#include "messages/json_tree.hpp"
#include "messages/uuid.hpp"
#include "messages/validation.hpp"

#include <cstdint>

namespace flashsale {

namespace {

/// Thrown inside this file only and turned into a returned api_error at the public
/// functions: validation is a long chain of early exits.
struct request_error {
  api_error error;
};

[[noreturn]] void reject(error_code code, std::string message) {
  throw request_error{api_error{code, std::move(message)}};
}

/// Tells whether a path names one of the body's numeric fields.
using numeric_field_test = bool (*)(std::string_view path);

/// The api_error for a body the JSON reader refused.
[[noreturn]] void reject_parse_error(const json_parse_failure& f,
                                     numeric_field_test is_numeric_field) {
  switch (f.kind) {
    case json_parse_failure::nul_byte:
      reject(error_code::invalid_request, "body is not valid JSON: it contains a NUL byte");
    case json_parse_failure::too_deep:
      reject(error_code::invalid_request, "body is nested too deeply");
    case json_parse_failure::not_unicode:
      reject(error_code::invalid_request,
             (f.path.empty() ? std::string{"a string"} : f.path)
               + " is not valid Unicode (an escaped lone surrogate?)");
    case json_parse_failure::number_too_big:
      // The reader refuses numbers beyond double range even when it hands them over as
      // text; in a numeric field of ours such a value is simply out of range.
      if (is_numeric_field(f.path))
        reject(error_code::validation_failed, f.path + " is out of range");
      break;
    case json_parse_failure::syntax:
      break;
  }
  reject(error_code::invalid_request, "body is not valid JSON at byte "
                                         + std::to_string(f.offset) + ": " + f.reason);
}

void check_size(std::string_view body) {
  if (body.size() > max_body_bytes)
    reject(error_code::payload_too_large,
           "body exceeds " + std::to_string(max_body_bytes) + " bytes");
}

json_node parse_json(std::string_view body, numeric_field_test is_numeric_field) {
  auto parsed = parse_json_tree(body);
  if (auto* failure = std::get_if<json_parse_failure>(&parsed))
    reject_parse_error(*failure, is_numeric_field);
  return std::move(std::get<json_node>(parsed));
}

/// The member `key` of `object` with the JSON type `kind`, or nullptr when absent.
/// A duplicated key is refused: parsers disagree on which copy wins.
const json_node* optional_field(const json_node& object, std::string_view key,
                                json_kind kind, const std::string& path) {
  const json_node* found = nullptr;
  for (std::size_t i = 0; i < object.keys.size(); ++i) {
    if (object.keys[i] != key)
      continue;
    if (found)
      reject(error_code::invalid_request, path + " appears more than once");
    found = &object.children[i];
  }
  if (found && found->kind != kind)
    reject(error_code::invalid_request, path + " must be " + std::string{kind_name(kind)});
  return found;
}

const json_node& field(const json_node& object, std::string_view key, json_kind kind,
                       const std::string& path) {
  const json_node* found = optional_field(object, key, kind, path);
  if (!found)
    reject(error_code::invalid_request, path + " is required");
  return *found;
}

const json_node& root_object(const json_node& root) {
  if (root.kind != json_kind::object)
    reject(error_code::invalid_request, "body must be a JSON object");
  return root;
}

std::string item_path(std::size_t index, std::string_view name) {
  return "items[" + std::to_string(index) + "]." + std::string{name};
}

// "total_amount", "items[N].quantity" or "items[N].price".
bool is_create_numeric_field(std::string_view path) {
  if (path == "total_amount")
    return true;
  constexpr std::string_view prefix = "items[";
  if (path.substr(0, prefix.size()) != prefix)
    return false;
  auto rest = path.substr(prefix.size());
  auto digits = rest.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos)
    return false;
  rest.remove_prefix(digits);
  return rest == "].quantity" || rest == "].price";
}

bool no_numeric_fields(std::string_view) {
  return false;
}

// --- create: phase 1, the shape (types, presence, UUID) -> INVALID_REQUEST ---------

struct raw_item {
  std::string_view sku_id;
  std::string_view quantity; // number text
  std::string_view price;    // number text
};

struct raw_request {
  std::string user_id; // normalised
  std::string_view currency;
  std::string_view total_amount; // number text
  std::vector<raw_item> items;
};

raw_item read_item(const json_node& node, std::size_t index) {
  if (node.kind != json_kind::object)
    reject(error_code::invalid_request, "items[" + std::to_string(index) + "] must be an object");
  return raw_item{
    field(node, "sku_id", json_kind::string, item_path(index, "sku_id")).text,
    field(node, "quantity", json_kind::number, item_path(index, "quantity")).text,
    field(node, "price", json_kind::number, item_path(index, "price")).text,
  };
}

raw_request read_shape(const json_node& root) {
  const auto& body = root_object(root);
  raw_request r;
  auto user_id = normalize_uuid(field(body, "user_id", json_kind::string, "user_id").text);
  if (!user_id)
    reject(error_code::invalid_request, "user_id must be a UUID");
  r.user_id = std::move(*user_id);
  r.currency = field(body, "currency", json_kind::string, "currency").text;
  r.total_amount = field(body, "total_amount", json_kind::number, "total_amount").text;
  const auto& items = field(body, "items", json_kind::array, "items");
  for (std::size_t i = 0; i < items.children.size(); ++i)
    r.items.push_back(read_item(items.children[i], i));
  return r;
}

// --- create: phase 2, the values -> VALIDATION_FAILED naming the field --------------

[[noreturn]] void invalid_value(const std::string& path, std::string_view what) {
  reject(error_code::validation_failed, path + " " + std::string{what});
}

minor_units positive_money(std::string_view text, const std::string& path) {
  auto m = parse_money(text);
  if (!m.value) {
    if (m.error == money_error::too_many_decimals)
      invalid_value(path, "must have at most 2 decimal places");
    if (m.error == money_error::out_of_range)
      invalid_value(path, "is out of range");
    reject(error_code::invalid_request, path + " must be a number");
  }
  if (*m.value <= 0)
    invalid_value(path, "must be greater than 0");
  return *m.value;
}

// The value decides, not the spelling: 5, 5.0 and 5e0 are all five; 5.5 is not an
// integer. Reading through parse_money keeps huge or odd spellings safe.
std::int32_t quantity(std::string_view text, const std::string& path) {
  constexpr minor_units per_unit = 100;
  auto m = parse_money(text);
  if (!m.value && m.error == money_error::malformed)
    reject(error_code::invalid_request, path + " must be a number");
  if (!m.value || *m.value % per_unit != 0 || *m.value / per_unit < 1
      || *m.value / per_unit > max_quantity)
    invalid_value(path, "must be an integer between 1 and " + std::to_string(max_quantity));
  return static_cast<std::int32_t>(*m.value / per_unit);
}

void check_currency(std::string_view currency) {
  if (!valid_currency(currency))
    invalid_value("currency", "must be 3 upper-case letters (ISO 4217)");
}

order_item validate_item(const raw_item& raw, std::size_t index) {
  if (!valid_sku(raw.sku_id))
    invalid_value(item_path(index, "sku_id"),
                  "must be 1 to " + std::to_string(max_sku_length)
                    + " characters without control characters");
  order_item item;
  item.sku_id = std::string{raw.sku_id};
  item.quantity = quantity(raw.quantity, item_path(index, "quantity"));
  item.price = positive_money(raw.price, item_path(index, "price"));
  return item;
}

void check_total(const create_order_request& r) {
  if (!total_matches(r.items, r.total_amount))
    invalid_value("total_amount", "must equal the sum of quantity * price over all items");
}

create_order_request validate(const raw_request& raw) {
  create_order_request r;
  r.user_id = raw.user_id;
  check_currency(raw.currency);
  r.currency = std::string{raw.currency};
  r.total_amount = positive_money(raw.total_amount, "total_amount");
  if (raw.items.empty() || raw.items.size() > max_items)
    invalid_value("items", "must contain 1 to " + std::to_string(max_items) + " entries");
  for (std::size_t i = 0; i < raw.items.size(); ++i)
    r.items.push_back(validate_item(raw.items[i], i));
  check_total(r);
  return r;
}

// --- fingerprint ----------------------------------------------------------------------

constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = fnv_offset_basis;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= fnv_prime;
  }
  return h;
}

std::uint64_t fnv1(std::string_view s) {
  std::uint64_t h = fnv_offset_basis;
  for (char c : s) {
    h *= fnv_prime;
    h ^= static_cast<unsigned char>(c);
  }
  return h;
}

void append_hex(std::string& out, std::uint64_t v) {
  constexpr std::string_view digits = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4)
    out += digits[(v >> shift) & 0x0f];
}

/// One line per value; SKUs are length-prefixed so no SKU text can imitate a
/// separator. "v1" lets a future format change coexist with stored fingerprints.
std::string normalised_text(const create_order_request& r) {
  std::string s = "v1\n" + r.user_id + '\n' + r.currency + '\n'
                  + std::to_string(r.total_amount) + '\n' + std::to_string(r.items.size());
  for (const auto& item : r.items) {
    s += '\n' + std::to_string(item.sku_id.size()) + ':' + item.sku_id;
    s += '\n' + std::to_string(item.quantity) + '\n' + std::to_string(item.price);
  }
  return s;
}

bool is_json_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string cancel_reason(std::string_view body) {
  check_size(body);
  bool blank = true;
  for (char c : body)
    blank = blank && is_json_whitespace(c);
  if (blank)
    return "USER_CANCEL";
  auto root = parse_json(body, no_numeric_fields);
  const auto* reason = optional_field(root_object(root), "reason", json_kind::string, "reason");
  if (!reason)
    return "USER_CANCEL";
  if (!valid_cancel_reason(reason->text))
    invalid_value("reason", "must be USER_CANCEL or STOCK_EXHAUSTED");
  return reason->text;
}

} // namespace

std::variant<create_order_request, api_error> parse_create_order(std::string_view body) {
  try {
    check_size(body);
    return validate(read_shape(parse_json(body, is_create_numeric_field)));
  } catch (request_error& e) {
    return std::move(e.error);
  }
}

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > max_idempotency_key_length)
    return false;
  if (key.front() == ' ' || key.back() == ' ')
    return false;
  for (char c : key)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

std::string request_fingerprint(const create_order_request& r) {
  // Two 64-bit FNV variants side by side: 128 bits make an accidental collision
  // between two different bodies under one user and key negligible.
  auto text = normalised_text(r);
  std::string out;
  append_hex(out, fnv1a(text));
  append_hex(out, fnv1(text));
  return out;
}

std::variant<std::string, api_error> parse_cancel_reason(std::string_view body) {
  try {
    return cancel_reason(body);
  } catch (request_error& e) {
    return std::move(e.error);
  }
}

} // namespace flashsale
