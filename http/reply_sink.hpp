#pragma once
// Where an HTTP answer goes. The HTTP layer implements it around its response writer;
// the bridge actor calls send() from its own thread once the work is done, so no HTTP
// thread waits for the database.

#include "messages/api_error.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

namespace flashsale {

struct http_reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The JSON error answer of CONTRACT §3; a 503 says when to retry.
inline http_reply error_reply(const api_error& e) {
  http_reply r{http_status(e.code), error_body_json(e), {}};
  if (e.code == error_code::unavailable)
    r.headers.emplace_back("Retry-After", "1");
  return r;
}

inline http_reply error_reply(error_code code, std::string message) {
  return error_reply({code, std::move(message)});
}

class reply_sink {
public:
  virtual ~reply_sink() = default;
  /// Called exactly once.
  virtual void send(http_reply reply) = 0;
};

using reply_sink_ptr = std::shared_ptr<reply_sink>;

} // namespace flashsale

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flashsale::reply_sink_ptr)
