#pragma once
// Whether a connection stays open after an answer (RFC 9112 §9.3). Pure: unit tested
// without a server.

namespace flashsale::http {

enum class http_version { http_1_0, http_1_1 };

/// The request's Connection header as far as persistence goes.
enum class connection_option {
  absent,     // no Connection header
  close,      // "close"
  keep_alive, // "keep-alive"
  other,      // another token (e.g. "Upgrade"): no say on persistence
};

/// HTTP/1.1 persists unless the client sends "close"; HTTP/1.0 only with "keep-alive".
bool keeps_connection(http_version version, connection_option option);

} // namespace flashsale::http
