#pragma once
// Turns validated HTTP input into commands. Pure: no I/O.

#include "messages/api_error.hpp"
#include "messages/commands.hpp"
#include "messages/uuid.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace flashsale::http {

/// A new order for a validated request: fresh id, status CREATED, its deadline, the
/// fingerprint for idempotency and its ORDER_CREATED event.
/// `order_id`: the new order's id (new_uuid(), or one minted in an owned shard).
create_command make_create_command(create_order_request req, std::string idempotency_key,
                                   std::int64_t now_ms, std::chrono::seconds ttl_created,
                                   std::string order_id = new_uuid());

/// A header's value as HTTP defines it (RFC 9110 §5.5): without the spaces and tabs
/// around it, which the HTTP library leaves in part.
std::string field_value(std::string_view raw);

/// The caller named by X-User-Id, normalised: empty when the header is absent,
/// INVALID_REQUEST when it is no UUID.
std::variant<std::string, api_error> parse_caller(const std::optional<std::string>& header);

/// user_id (required UUID), limit (1–100, default 20), offset (>= 0, default 0).
/// Malformed UUID or non-integer -> INVALID_REQUEST; out of range -> VALIDATION_FAILED.
std::variant<list_query, api_error> parse_list_query(const std::optional<std::string>& user_id,
                                                     const std::optional<std::string>& limit,
                                                     const std::optional<std::string>& offset);

} // namespace flashsale::http
