#pragma once
// What one connection may carry and whether it stays open after an answer (RFC 9112
// §9.3). Pure: unit tested without a server.

#include <cstddef>

namespace flashsale::http {

/// What a request may be. Beyond them the answer is 413 or 400, in JSON.
struct parser_limits {
  std::size_t max_head_bytes = 16 * 1024;     // request line and headers
  std::size_t max_body_bytes = 64 * 1024;     // CONTRACT §3
  std::size_t max_chunk_overhead = 16 * 1024; // chunked framing besides the body
};

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
