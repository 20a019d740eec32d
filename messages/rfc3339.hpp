#pragma once
// RFC 3339 timestamps as the events carry them (CONTRACT §5), in proleptic Gregorian
// calendar arithmetic with no locale or time zone database involved. Pure: no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

/// RFC 3339 UTC with milliseconds: "2026-01-01T00:00:00.000Z".
std::string rfc3339_ms(std::int64_t unix_ms);

/// Parses RFC 3339 (with "Z" or an offset, optional fraction) to Unix ms.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

} // namespace flashsale
