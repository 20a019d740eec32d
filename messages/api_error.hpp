#pragma once
// The error vocabulary of CONTRACT §3 and its JSON body.

#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

enum class error_code {
  invalid_request,        // 400 INVALID_REQUEST
  validation_failed,      // 400 VALIDATION_FAILED
  forbidden,              // 403 FORBIDDEN
  order_not_found,        // 404 ORDER_NOT_FOUND
  not_found,              // 404 NOT_FOUND (unknown route)
  method_not_allowed,     // 405 METHOD_NOT_ALLOWED
  order_invalid_state,    // 409 ORDER_INVALID_STATE
  request_timeout,        // 408 REQUEST_TIMEOUT (head or body not received in time)
  payload_too_large,      // 413 PAYLOAD_TOO_LARGE
  idempotency_key_reused, // 422 IDEMPOTENCY_KEY_REUSED
  internal_error,         // 500 INTERNAL_ERROR
  unavailable,            // 503 UNAVAILABLE
};

struct api_error {
  error_code code = error_code::internal_error;
  std::string message;
};

std::string_view to_string(error_code c); // "INVALID_REQUEST", ...
int http_status(error_code c);            // 400, ...
/// {"error":{"code":"…","message":"…"}} with the message JSON-escaped.
std::string error_body_json(const api_error& e);

/// CONTRACT §3 "Ownership": FORBIDDEN when a caller is named (the normalised X-User-Id;
/// empty when the header was not given) and is not `owner`.
std::optional<api_error> ownership_error(std::string_view caller, std::string_view owner);

} // namespace flashsale
