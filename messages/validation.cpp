#include "messages/validation.hpp"

#include "messages/create_order.hpp"
#include "messages/utf8.hpp"
#include "messages/uuid.hpp"

namespace flashsale {

namespace {

constexpr std::int64_t ms_per_second = 1000;

bool is_upper_ascii(char c) {
  return c >= 'A' && c <= 'Z';
}

bool is_control(unsigned char byte) {
  constexpr unsigned char first_printable = 0x20;
  constexpr unsigned char del = 0x7f;
  return byte < first_printable || byte == del;
}

std::string too_long(const char* field, std::size_t cap) {
  return std::string{field} + " is not valid Unicode of at most " + std::to_string(cap)
         + " characters";
}

} // namespace

bool valid_time_ms(std::int64_t unix_ms) {
  return unix_ms >= earliest_time_ms && unix_ms <= latest_time_ms;
}

bool valid_time_s(std::int64_t unix_s) {
  return unix_s >= earliest_time_ms / ms_per_second && unix_s <= latest_time_ms / ms_per_second;
}

bool canonical_uuid(std::string_view text) {
  auto n = normalize_uuid(text);
  return n && *n == text;
}

bool valid_text(std::string_view text, std::size_t max_chars) {
  return is_valid_utf8(text) && utf8_length(text) <= max_chars;
}

bool valid_currency(std::string_view code) {
  return code.size() == 3 && is_upper_ascii(code[0]) && is_upper_ascii(code[1])
         && is_upper_ascii(code[2]);
}

bool valid_sku(std::string_view sku) {
  if (!is_valid_utf8(sku))
    return false;
  for (char c : sku)
    if (is_control(static_cast<unsigned char>(c)))
      return false;
  auto chars = utf8_length(sku);
  return chars >= 1 && chars <= max_sku_length;
}

bool valid_amount(minor_units amount) {
  return amount > 0 && amount <= max_money;
}

bool valid_quantity(std::int64_t quantity) {
  return quantity >= 1 && quantity <= max_quantity;
}

bool total_matches(const std::vector<order_item>& items, minor_units total) {
  std::optional<minor_units> sum = 0;
  for (const auto& item : items) {
    auto line = checked_mul(item.price, item.quantity);
    sum = line && sum ? checked_add(*sum, *line) : std::nullopt;
  }
  return sum && *sum == total;
}

bool valid_cancel_reason(std::string_view reason) {
  return reason == "USER_CANCEL" || reason == "STOCK_EXHAUSTED";
}

std::string check_incoming_event(const incoming_event& e) {
  if (!canonical_uuid(e.event_id))
    return "event_id is not a UUID";
  if (!canonical_uuid(e.order_id))
    return "payload.order_id is not a UUID";
  if (e.event_type.empty() || !valid_text(e.event_type, max_event_type_length))
    return too_long("event_type", max_event_type_length);
  if (!valid_text(e.payment_intent_id, max_payment_intent_id_length))
    return too_long("payload.payment_intent_id", max_payment_intent_id_length);
  if (!valid_text(e.reason, max_event_reason_length))
    return too_long("payload.reason", max_event_reason_length);
  if (!valid_time_ms(e.occurred_at_ms))
    return "occurred_at is not a time RFC 3339 can name";
  return {};
}

std::string check_order_item(const order_item& item) {
  if (!valid_sku(item.sku_id))
    return "sku_id is not 1 to " + std::to_string(max_sku_length)
           + " characters without control characters";
  if (!valid_quantity(item.quantity))
    return "quantity " + std::to_string(item.quantity) + " is not 1 to "
           + std::to_string(max_quantity);
  if (!valid_amount(item.price))
    return "price is out of range";
  return {};
}

std::string check_order(const order& o) {
  if (!canonical_uuid(o.id))
    return "id is not a UUID";
  if (!canonical_uuid(o.user_id))
    return "user_id is not a UUID";
  auto status = static_cast<long long>(o.status);
  if (status < 0 || status > static_cast<long long>(order_status::expired))
    return "status " + std::to_string(status) + " is out of range";
  if (!valid_currency(o.currency))
    return "currency is not 3 upper-case letters";
  if (!valid_amount(o.total_amount))
    return "total_amount is out of range";
  if (o.items.empty() || o.items.size() > max_items)
    return "items are not 1 to " + std::to_string(max_items);
  for (const auto& item : o.items)
    if (auto what = check_order_item(item); !what.empty())
      return "items[]." + what;
  if (!total_matches(o.items, o.total_amount))
    return "total_amount is not the sum of quantity * price";
  if (!valid_time_s(o.created_at) || !valid_time_s(o.updated_at)
      || (o.expired_at && !valid_time_s(*o.expired_at)))
    return "a time is out of range";
  if (!valid_text(o.reason, max_event_reason_length))
    return too_long("reason", max_event_reason_length);
  return {};
}

std::string check_cancel(std::string_view order_id, std::string_view reason,
                         std::string_view user_id) {
  if (!canonical_uuid(order_id))
    return "order id is not a UUID";
  if (!valid_cancel_reason(reason))
    return "reason is not USER_CANCEL or STOCK_EXHAUSTED";
  if (!user_id.empty() && !canonical_uuid(user_id))
    return "user_id is neither empty nor a UUID";
  return {};
}

} // namespace flashsale
