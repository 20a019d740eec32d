#include "http/requests.hpp"

#include "messages/uuid.hpp"

#include <algorithm>
#include <charconv>

namespace flashsale::http {

create_command make_create_command(create_order_request req, std::string idempotency_key,
                                   std::int64_t now_ms, std::chrono::seconds ttl_created,
                                   std::string order_id) {
  create_command cmd;
  cmd.fingerprint = request_fingerprint(req);
  order& o = cmd.fresh;
  o.id = std::move(order_id);
  o.user_id = std::move(req.user_id);
  o.status = order_status::created;
  o.currency = std::move(req.currency);
  o.total_amount = req.total_amount;
  o.items = std::move(req.items);
  o.created_at = now_ms / 1000;
  o.updated_at = o.created_at;
  o.expired_at = o.created_at + ttl_created.count();
  cmd.idempotency_key = std::move(idempotency_key);
  cmd.created_event = make_order_created(o, now_ms);
  return cmd;
}

namespace {

constexpr int too_large = 1'000'000'000;

/// Parses a whole decimal integer with an optional minus sign; very long ones come back
/// as +/-too_large. Negative and huge values are out of range, not malformed.
std::optional<int> parse_small_int(const std::string& text) {
  bool negative = !text.empty() && text.front() == '-';
  auto digits = text.substr(negative ? 1 : 0);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  int value = too_large;
  if (digits.size() <= 9)
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return negative ? -value : value;
}

} // namespace

std::string field_value(std::string_view raw) {
  auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!raw.empty() && ows(raw.front()))
    raw.remove_prefix(1);
  while (!raw.empty() && ows(raw.back()))
    raw.remove_suffix(1);
  return std::string{raw};
}

std::variant<std::string, api_error> parse_caller(const std::optional<std::string>& header) {
  if (!header)
    return std::string{};
  auto id = normalize_uuid(*header);
  if (!id)
    return api_error{error_code::invalid_request, "X-User-Id is not a valid UUID"};
  return std::move(*id);
}

std::variant<list_query, api_error> parse_list_query(const std::optional<std::string>& user_id,
                                                     const std::optional<std::string>& limit,
                                                     const std::optional<std::string>& offset) {
  list_query q;
  if (!user_id)
    return api_error{error_code::invalid_request, "query parameter user_id is required"};
  auto uid = normalize_uuid(*user_id);
  if (!uid)
    return api_error{error_code::invalid_request, "user_id is not a valid UUID"};
  q.user_id = *uid;
  if (limit) {
    auto n = parse_small_int(*limit);
    if (!n)
      return api_error{error_code::invalid_request, "limit must be an integer"};
    if (*n < 1 || *n > 100)
      return api_error{error_code::validation_failed, "limit must be between 1 and 100"};
    q.limit = *n;
  }
  if (offset) {
    auto n = parse_small_int(*offset);
    if (!n)
      return api_error{error_code::invalid_request, "offset must be a non-negative integer"};
    if (*n < 0)
      return api_error{error_code::validation_failed, "offset must not be negative"};
    if (*n >= too_large)
      return api_error{error_code::validation_failed, "offset is too large"};
    q.offset = *n;
  }
  return q;
}

} // namespace flashsale::http
