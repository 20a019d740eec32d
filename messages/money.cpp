#include "messages/money.hpp"

#include <algorithm>

namespace flashsale {

namespace {

// Exponents beyond this cannot change the verdict (the digits of any accepted text
// are far fewer), and clamping keeps the scale arithmetic free of overflow.
constexpr std::int64_t exponent_limit = 1'000'000'000;
// max_money = 10^15 has 16 digits; anything longer is out of range.
constexpr std::int64_t max_money_digits = 16;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// A JSON number split into its parts, exactly as written.
struct json_decimal {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;
  std::int64_t exponent = 0;
};

std::string_view take_digits(std::string_view& rest) {
  std::size_t n = 0;
  while (n < rest.size() && is_digit(rest[n]))
    ++n;
  auto digits = rest.substr(0, n);
  rest.remove_prefix(n);
  return digits;
}

bool consume(std::string_view& rest, char c) {
  if (rest.empty() || rest.front() != c)
    return false;
  rest.remove_prefix(1);
  return true;
}

std::optional<std::int64_t> take_exponent(std::string_view& rest) {
  bool negative = consume(rest, '-');
  if (!negative)
    consume(rest, '+');
  auto digits = take_digits(rest);
  if (digits.empty())
    return std::nullopt;
  std::int64_t e = 0;
  for (char c : digits)
    e = std::min(e * 10 + (c - '0'), exponent_limit);
  return negative ? -e : e;
}

/// Validates the JSON number grammar (RFC 8259 §6) and splits the text.
std::optional<json_decimal> split_number(std::string_view text) {
  json_decimal d;
  d.negative = consume(text, '-');
  d.integer = take_digits(text);
  if (d.integer.empty() || (d.integer.size() > 1 && d.integer.front() == '0'))
    return std::nullopt;
  if (consume(text, '.')) {
    d.fraction = take_digits(text);
    if (d.fraction.empty())
      return std::nullopt;
  }
  if (consume(text, 'e') || consume(text, 'E')) {
    auto e = take_exponent(text);
    if (!e)
      return std::nullopt;
    d.exponent = *e;
  }
  if (!text.empty())
    return std::nullopt;
  return d;
}

money_parse failure(money_error e) {
  money_parse p;
  p.error = e;
  return p;
}

/// value = digits × 10^scale minor units, with digits free of leading and trailing
/// zeros, so "12.340" and "1234e-2" look alike and the decimal count is exact.
money_parse to_minor_units(const json_decimal& d) {
  std::string digits{d.integer};
  digits.append(d.fraction);
  std::int64_t scale = d.exponent - static_cast<std::int64_t>(d.fraction.size()) + 2;
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++scale;
  }
  auto first = digits.find_first_not_of('0');
  if (first == std::string::npos)
    return money_parse{minor_units{0}};
  digits.erase(0, first);
  if (scale < 0)
    return failure(money_error::too_many_decimals);
  if (static_cast<std::int64_t>(digits.size()) + scale > max_money_digits)
    return failure(money_error::out_of_range);
  std::uint64_t value = 0;
  for (char c : digits)
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  for (std::int64_t i = 0; i < scale; ++i)
    value *= 10;
  if (value > static_cast<std::uint64_t>(max_money))
    return failure(money_error::out_of_range);
  auto signed_value = static_cast<minor_units>(value);
  return money_parse{d.negative ? -signed_value : signed_value};
}

std::optional<minor_units> within_limit(minor_units m) {
  if (m > max_money || m < -max_money)
    return std::nullopt;
  return m;
}

} // namespace

money_parse parse_money(std::string_view json_number) {
  auto parts = split_number(json_number);
  if (!parts)
    return failure(money_error::malformed);
  return to_minor_units(*parts);
}

std::string format_money(minor_units m) {
  // Unsigned magnitude: negating INT64_MIN would overflow.
  auto magnitude = m < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(m)
                         : static_cast<std::uint64_t>(m);
  auto cents = magnitude % 100;
  std::string out = m < 0 ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  out += static_cast<char>('0' + cents / 10);
  out += static_cast<char>('0' + cents % 10);
  return out;
}

std::optional<minor_units> checked_mul(minor_units price, std::int64_t quantity) {
  minor_units product = 0;
  if (__builtin_mul_overflow(price, quantity, &product))
    return std::nullopt;
  return within_limit(product);
}

std::optional<minor_units> checked_add(minor_units a, minor_units b) {
  minor_units sum = 0;
  if (__builtin_add_overflow(a, b, &sum))
    return std::nullopt;
  return within_limit(sum);
}

} // namespace flashsale
