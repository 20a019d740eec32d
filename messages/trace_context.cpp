#include "messages/trace_context.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <stdexcept>

namespace flashsale {

namespace {

constexpr std::size_t trace_id_hex = 32;
constexpr std::size_t parent_id_hex = 16;
constexpr std::size_t trace_id_at = 3;
constexpr std::size_t parent_id_at = trace_id_at + trace_id_hex + 1;
constexpr std::size_t flags_at = parent_id_at + parent_id_hex + 1;
constexpr const char* hex_digits = "0123456789abcdef";

int lower_hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/// Lower-case hex, and (for ids) not all zero.
bool valid_hex(std::string_view s, bool nonzero) {
  bool any = false;
  for (char c : s) {
    int v = lower_hex_value(c);
    if (v < 0)
      return false;
    any = any || v != 0;
  }
  return any || !nonzero;
}

std::string random_hex(std::size_t digits) {
  std::array<unsigned char, trace_id_hex / 2> bytes{};
  auto n = digits / 2;
  for (;;) {
    // getrandom(2) with fewer than 256 bytes never returns short unless interrupted.
    auto got = ::getrandom(bytes.data(), n, 0);
    if (got == static_cast<ssize_t>(n))
      break;
    if (got < 0 && errno != EINTR)
      throw std::runtime_error("getrandom failed");
  }
  std::string out;
  out.reserve(digits);
  for (std::size_t i = 0; i < n; ++i) {
    out += hex_digits[bytes[i] >> 4];
    out += hex_digits[bytes[i] & 0x0f];
  }
  return out;
}

/// A random id that is not all zero (a chance of 2^-64 per span id, retried).
std::string new_id(std::size_t digits) {
  for (;;) {
    auto id = random_hex(digits);
    if (valid_hex(id, true))
      return id;
  }
}

} // namespace

std::optional<trace_context> parse_traceparent(std::string_view text) {
  if (text.size() < traceparent_length)
    return std::nullopt;
  auto version = text.substr(0, 2);
  if (!valid_hex(version, false) || version == "ff")
    return std::nullopt;
  // Version 00 has exactly four fields; a later one may add fields after a '-'.
  if (version == "00" ? text.size() != traceparent_length
                      : text.size() > traceparent_length && text[traceparent_length] != '-')
    return std::nullopt;
  if (text[2] != '-' || text[parent_id_at - 1] != '-' || text[flags_at - 1] != '-')
    return std::nullopt;
  auto trace_id = text.substr(trace_id_at, trace_id_hex);
  auto parent_id = text.substr(parent_id_at, parent_id_hex);
  auto flags = text.substr(flags_at, 2);
  if (!valid_hex(trace_id, true) || !valid_hex(parent_id, true) || !valid_hex(flags, false))
    return std::nullopt;
  trace_context c;
  c.trace_id = std::string{trace_id};
  c.parent_id = std::string{parent_id};
  c.flags = static_cast<std::uint8_t>(lower_hex_value(flags[0]) * 16 + lower_hex_value(flags[1]));
  return c;
}

std::string format_traceparent(const trace_context& c) {
  auto flags = static_cast<unsigned>(c.flags & trace_flag_sampled);
  std::string out;
  out.reserve(traceparent_length);
  out += "00-";
  out += c.trace_id;
  out += '-';
  out += c.parent_id;
  out += '-';
  out += hex_digits[flags >> 4];
  out += hex_digits[flags & 0x0f];
  return out;
}

trace_context continue_trace(std::string_view incoming) {
  trace_context c;
  if (auto parsed = parse_traceparent(incoming)) {
    c.trace_id = std::move(parsed->trace_id);
    c.flags = parsed->flags;
  } else {
    c.trace_id = new_id(trace_id_hex);
    c.flags = trace_flag_sampled;
  }
  c.parent_id = new_id(parent_id_hex);
  return c;
}

std::string next_traceparent(std::string_view incoming) {
  return format_traceparent(continue_trace(incoming));
}

std::string trace_id_of(std::string_view traceparent) {
  auto c = parse_traceparent(traceparent);
  return c ? std::move(c->trace_id) : std::string{};
}

} // namespace flashsale
