#pragma once
// What one connection may carry and whether it stays open after an answer (RFC 9112
// §9.3). Pure: unit tested without a server.

#include <cstddef>
#include <string_view>

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

/// A request line whose method is a well-formed token (RFC 9110 §9.1) that Pistache 0.0.5
/// cannot parse, e.g. QUERY or BREW: Pistache would refuse the whole request, we answer
/// it like any method the path lacks (405 with Allow, or 404).
struct foreign_method_line {
  enum class state {
    none,       // not such a line (a method Pistache knows, or malformed: Pistache decides)
    incomplete, // such a method, the line's end not buffered yet
    complete,   // such a method and a whole request line: method, target, HTTP version
  };
  state found = state::none;
  std::string_view method;
  std::string_view target;
};

/// Looks at the start of the bytes buffered for a request line.
foreign_method_line scan_foreign_method(std::string_view buffered);

} // namespace flashsale::http
