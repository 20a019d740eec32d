#include "messages/api_error.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace flashsale {

namespace {

struct error_info {
  std::string_view name;
  int status;
};

error_info info(error_code c) {
  switch (c) {
    case error_code::invalid_request:
      return {"INVALID_REQUEST", 400};
    case error_code::validation_failed:
      return {"VALIDATION_FAILED", 400};
    case error_code::forbidden:
      return {"FORBIDDEN", 403};
    case error_code::order_not_found:
      return {"ORDER_NOT_FOUND", 404};
    case error_code::not_found:
      return {"NOT_FOUND", 404};
    case error_code::method_not_allowed:
      return {"METHOD_NOT_ALLOWED", 405};
    case error_code::order_invalid_state:
      return {"ORDER_INVALID_STATE", 409};
    case error_code::request_timeout:
      return {"REQUEST_TIMEOUT", 408};
    case error_code::payload_too_large:
      return {"PAYLOAD_TOO_LARGE", 413};
    case error_code::idempotency_key_reused:
      return {"IDEMPOTENCY_KEY_REUSED", 422};
    case error_code::unavailable:
      return {"UNAVAILABLE", 503};
    case error_code::internal_error:
      break;
  }
  // Anything unknown is our fault, never the client's.
  return {"INTERNAL_ERROR", 500};
}

} // namespace

std::string_view to_string(error_code c) {
  return info(c).name;
}

int http_status(error_code c) {
  return info(c).status;
}

std::optional<api_error> ownership_error(std::string_view caller, std::string_view owner) {
  if (caller.empty() || caller == owner)
    return std::nullopt;
  return api_error{error_code::forbidden, "the order belongs to another user"};
}

std::string error_body_json(const api_error& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto code = to_string(e.code);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(e.message.data(), static_cast<rapidjson::SizeType>(e.message.size()));
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace flashsale
