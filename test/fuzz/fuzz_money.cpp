// libFuzzer target: money (messages/money.cpp). The input is a JSON number's text for
// parse_money; its first 16 bytes are also two int64 values for the arithmetic.
// Properties:
//  * an accepted amount lies within ±max_money, and parse → format → parse is the
//    identity, format giving -?digits.dd;
//  * on plain spellings (up to 30 digits, exponent within ±40) parse_money agrees with
//    a reference computed in 128-bit integers: value, too_many_decimals, out_of_range,
//    and malformed exactly when the text breaks the JSON number grammar;
//  * spelling does not matter: "x" and "xe0", "x" and "x0" (with a fraction), "-x";
//  * checked_mul / checked_add agree with 128-bit arithmetic bounded by max_money;
//  * format_money of any int64 (INT64_MIN too) is well formed.

#include "fuzz_support.hpp"

#include "messages/money.hpp"

#include <cstring>
#include <optional>
#include <string>

using namespace flashsale;
using flashsale::fuzz::shown;

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

struct reference {
  bool grammar_ok = false;
  bool in_domain = false; // the reference could decide (few digits, small exponent)
  money_parse result;
};

/// RFC 8259 number grammar, then the value for a restricted domain.
reference reference_parse(std::string_view t) {
  reference ref;
  std::size_t i = 0;
  bool negative = false;
  if (i < t.size() && t[i] == '-') {
    negative = true;
    ++i;
  }
  std::size_t int_start = i;
  while (i < t.size() && digit(t[i]))
    ++i;
  std::string_view integer = t.substr(int_start, i - int_start);
  if (integer.empty() || (integer.size() > 1 && integer[0] == '0'))
    return ref;
  std::string_view fraction;
  if (i < t.size() && t[i] == '.') {
    std::size_t f = ++i;
    while (i < t.size() && digit(t[i]))
      ++i;
    fraction = t.substr(f, i - f);
    if (fraction.empty())
      return ref;
  }
  long long exponent = 0;
  bool exponent_small = true;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-'))
      eneg = t[i++] == '-';
    std::size_t e = i;
    while (i < t.size() && digit(t[i])) {
      if (exponent < 1000)
        exponent = exponent * 10 + (t[i] - '0');
      ++i;
    }
    if (i == e)
      return ref;
    exponent_small = exponent <= 40;
    if (eneg)
      exponent = -exponent;
  }
  if (i != t.size())
    return ref;
  ref.grammar_ok = true;

  std::string digits = std::string{integer} + std::string{fraction};
  long long scale = exponent - static_cast<long long>(fraction.size()) + 2;
  auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    ref.in_domain = true;
    ref.result.value = 0;
    return ref;
  }
  digits.erase(0, first);
  if (digits.size() > 30 || !exponent_small)
    return ref;
  ref.in_domain = true;
  while (digits.back() == '0') {
    digits.pop_back();
    ++scale;
  }
  if (scale < 0) {
    ref.result.error = money_error::too_many_decimals;
    return ref;
  }
  if (static_cast<long long>(digits.size()) + scale > 30) {
    ref.result.error = money_error::out_of_range;
    return ref;
  }
  __int128 v = 0;
  for (char c : digits)
    v = v * 10 + (c - '0');
  for (long long k = 0; k < scale; ++k)
    v *= 10;
  if (v > max_money) {
    ref.result.error = money_error::out_of_range;
    return ref;
  }
  ref.result.value = static_cast<minor_units>(negative ? -v : v);
  return ref;
}

std::string describe(const money_parse& p) {
  if (p.value)
    return std::to_string(*p.value);
  switch (p.error) {
    case money_error::malformed:
      return "malformed";
    case money_error::too_many_decimals:
      return "too_many_decimals";
    case money_error::out_of_range:
      return "out_of_range";
  }
  return "?";
}

bool same(const money_parse& a, const money_parse& b) {
  return a.value == b.value && (a.value || a.error == b.error);
}

void check_format(minor_units m) {
  auto text = format_money(m);
  std::size_t i = text[0] == '-' ? 1 : 0;
  FUZZ_CHECK(text.size() >= i + 4 && text[text.size() - 3] == '.', "format " + text);
  for (std::size_t k = i; k < text.size(); ++k)
    FUZZ_CHECK(k == text.size() - 3 || digit(text[k]), "format " + text);
  FUZZ_CHECK((m < 0) == (i == 1), "sign of " + text);
  auto back = parse_money(text);
  if (m >= -max_money && m <= max_money) {
    FUZZ_CHECK(back.value && *back.value == m,
               "format -> parse: " + std::to_string(m) + " -> " + text + " -> " + describe(back));
  } else {
    FUZZ_CHECK(!back.value && back.error == money_error::out_of_range,
               "beyond max_money: " + text + " -> " + describe(back));
  }
}

void check_arithmetic(std::int64_t a, std::int64_t b) {
  auto bounded = [](__int128 v) -> std::optional<minor_units> {
    if (v > max_money || v < -static_cast<__int128>(max_money))
      return std::nullopt;
    return static_cast<minor_units>(v);
  };
  auto mul = checked_mul(a, b);
  auto mul_ref = bounded(static_cast<__int128>(a) * b);
  FUZZ_CHECK(mul == mul_ref, "checked_mul(" + std::to_string(a) + ", " + std::to_string(b) + ")");
  auto add = checked_add(a, b);
  auto add_ref = bounded(static_cast<__int128>(a) + b);
  FUZZ_CHECK(add == add_ref, "checked_add(" + std::to_string(a) + ", " + std::to_string(b) + ")");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto got = parse_money(text);
  auto ref = reference_parse(text);

  FUZZ_CHECK(ref.grammar_ok == (got.value || got.error != money_error::malformed),
             "grammar verdict differs for " + shown(text) + ": " + describe(got));
  if (ref.in_domain)
    FUZZ_CHECK(same(got, ref.result), "value differs for " + shown(text) + ": "
                                         + describe(got) + ", reference " + describe(ref.result));
  if (got.value) {
    FUZZ_CHECK(*got.value >= -max_money && *got.value <= max_money, "beyond max_money");
    check_format(*got.value);
  }
  if (ref.grammar_ok) {
    std::string s{text};
    bool has_exponent = s.find_first_of("eE") != std::string::npos;
    if (!has_exponent) {
      auto e0 = parse_money(s + "e0");
      FUZZ_CHECK(same(got, e0), "x vs xe0 for " + shown(text));
      if (s.find('.') != std::string::npos)
        FUZZ_CHECK(same(got, parse_money(s + "0")), "x vs x0 for " + shown(text));
    }
    if (s[0] != '-') {
      auto neg = parse_money("-" + s);
      FUZZ_CHECK(got.value ? neg.value && *neg.value == -*got.value : same(got, neg),
                 "x vs -x for " + shown(text));
    }
  }

  if (size >= 16) {
    std::int64_t a = 0;
    std::int64_t b = 0;
    std::memcpy(&a, data, sizeof a);
    std::memcpy(&b, data + 8, sizeof b);
    check_arithmetic(a, b);
    check_format(a);
    // Small values matter most: a price times a quantity.
    check_arithmetic(a % (max_money + 1), b % 20001);
  }
  return 0;
}
