#pragma once
// Pistache 0.0.5's request parser with our limits. Left alone, Pistache answers a
// request over its buffer (413) or one it cannot parse (400, 501) itself, in plain
// text, and then parses the rest of the body as further requests. This parser stops
// at our limits instead — a Content-Length over the body limit right after the headers,
// before any of the body is read — and hands the handler a failure to answer in JSON;
// the connection then only drains what the client still sends until it goes.

#include "http/connection.hpp"
#include "http/connection_guard.hpp"

#include <pistache/http.h>

#include <cstddef>
#include <memory>
#include <string>

namespace flashsale::http {

/// Why the current request is no request: what to answer instead.
struct parse_failure {
  int status = 0; // 0: none; 405: a method Pistache cannot parse (scan_foreign_method)
  std::string message;
  std::string method; // with 405: the method and the request target, for routing
  std::string target;
};

class request_parser final : public Pistache::Http::RequestParser {
public:
  /// `conn` (may be null) hears where each request is: head, body, complete.
  request_parser(parser_limits limits, std::shared_ptr<conn_state> conn);

  void reset() override;

  /// Set when the request handed over is a failure to answer, not a request.
  const parse_failure& failure() const { return failure_; }
  /// From now on every byte of this connection is read and dropped.
  void start_draining() { draining_ = true; }
  /// Draining, or cut by the connection watchdog (then the handler ignores what comes).
  bool draining() const { return draining_ || (conn_ && conn_->cut()); }
  const std::shared_ptr<conn_state>& connection() const { return conn_; }

  /// Pistache's buffer for these limits: room for one more read past the largest
  /// request we accept, so that our checks, not Pistache's, refuse it.
  static std::size_t buffer_size(const parser_limits& limits);

private:
  class guarded_step;

  parser_limits limits_;
  std::shared_ptr<conn_state> conn_;
  parse_failure failure_;
  bool draining_ = false;
};

} // namespace flashsale::http
