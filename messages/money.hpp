#pragma once
// Money as exact integer minor units (2 decimal places); never floating point.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

using minor_units = std::int64_t;

/// Largest amount accepted anywhere: 10^15 minor units (10 trillion). Keeps every
/// product and sum inside int64 with checks to spare.
constexpr minor_units max_money = 1'000'000'000'000'000;

enum class money_error { malformed, too_many_decimals, out_of_range };

struct money_parse {
  std::optional<minor_units> value;
  money_error error = money_error::malformed; // meaningful only when !value
};

/// Parses the text of a JSON number ("12", "12.5", "12.50", "1e2" ...) into minor units.
/// Refuses more than 2 significant decimals (12.345 -> too_many_decimals, but 12.340
/// is accepted), negative numbers are parsed (the caller decides), values whose
/// magnitude exceeds max_money -> out_of_range. Exponents are accepted when the result
/// is exact.
money_parse parse_money(std::string_view json_number);

/// Formats minor units as a JSON number text with two decimals: 1250 -> "12.50",
/// 5 -> "0.05", -5 -> "-0.05".
std::string format_money(minor_units m);

/// Checked arithmetic: return nullopt on overflow of int64 or when |result| > max_money.
std::optional<minor_units> checked_mul(minor_units price, std::int64_t quantity);
std::optional<minor_units> checked_add(minor_units a, minor_units b);

} // namespace flashsale
