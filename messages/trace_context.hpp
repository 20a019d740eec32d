#pragma once
// W3C Trace Context level 1 (https://www.w3.org/TR/trace-context/): the `traceparent`
// header, parsed and made. Pure apart from new ids (the kernel's random bytes). Debian 12
// ships no OpenTelemetry C++ SDK; this codec is all the service needs to carry a trace
// from a request or an incoming event to the events it causes (CONTRACT §3, §5).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

/// The length of a version-00 traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex.
constexpr std::size_t traceparent_length = 55;

struct trace_context {
  std::string trace_id;  // 32 lower-case hex digits, not all zero
  std::string parent_id; // 16 lower-case hex digits, not all zero: the caller's span
  std::uint8_t flags = 0;
};

/// The sampled flag, the only one level 1 defines ("the caller may have recorded").
constexpr std::uint8_t trace_flag_sampled = 0x01;

/// Parses a traceparent by the spec's rules: version 00 is exactly 55 characters; a
/// later version (not ff) is read by the version-00 layout and may carry more fields
/// after a '-' at position 55. Every hex digit lower case; trace and parent ids not all
/// zero. nullopt for anything else (the caller then starts a new trace: never an error).
std::optional<trace_context> parse_traceparent(std::string_view text);

/// The version-00 header of `c`. Flags other than sampled are sent as zero (level 1:
/// their meaning is undefined in version 00).
std::string format_traceparent(const trace_context& c);

/// The context of our own span in the trace `incoming` names: the same trace id and
/// flags, a new span id. A new trace (sampled) when `incoming` is empty or malformed.
trace_context continue_trace(std::string_view incoming);

/// continue_trace(incoming), formatted: the traceparent of what we send.
std::string next_traceparent(std::string_view incoming);

/// The trace id of a traceparent, for logs; empty when it is malformed or absent.
std::string trace_id_of(std::string_view traceparent);

} // namespace flashsale
