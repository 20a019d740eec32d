#include "messages/utf8.hpp"

namespace flashsale {

namespace {

bool is_continuation(unsigned char byte) {
  return (byte & 0xc0) == 0x80;
}

/// The length of the sequence `lead` starts and the range its second byte must be in
/// (RFC 3629 §4): the narrowed ranges exclude overlong forms, surrogates and code
/// points above U+10FFFF. Zero for a byte that cannot start a sequence.
struct sequence_rule {
  std::size_t length;
  unsigned char second_min;
  unsigned char second_max;
};

sequence_rule rule_for(unsigned char lead) {
  if (lead < 0x80)
    return {1, 0, 0};
  if (lead >= 0xc2 && lead <= 0xdf)
    return {2, 0x80, 0xbf};
  if (lead == 0xe0)
    return {3, 0xa0, 0xbf};
  if (lead == 0xed) // U+D000–U+D7FF only: ED A0..BF would be surrogates
    return {3, 0x80, 0x9f};
  if (lead >= 0xe1 && lead <= 0xef)
    return {3, 0x80, 0xbf};
  if (lead == 0xf0)
    return {4, 0x90, 0xbf};
  if (lead >= 0xf1 && lead <= 0xf3)
    return {4, 0x80, 0xbf};
  if (lead == 0xf4)
    return {4, 0x80, 0x8f};
  return {0, 0, 0};
}

} // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto rule = rule_for(static_cast<unsigned char>(text[i]));
    if (rule.length == 0 || text.size() - i < rule.length)
      return false;
    if (rule.length > 1) {
      auto second = static_cast<unsigned char>(text[i + 1]);
      if (second < rule.second_min || second > rule.second_max)
        return false;
      for (std::size_t k = 2; k < rule.length; ++k)
        if (!is_continuation(static_cast<unsigned char>(text[i + k])))
          return false;
    }
    i += rule.length;
  }
  return true;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (char c : text)
    if (!is_continuation(static_cast<unsigned char>(c)))
      ++n;
  return n;
}

} // namespace flashsale
