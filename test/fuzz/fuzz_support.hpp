#pragma once
// Shared by the libFuzzer targets: property checks that abort (libFuzzer then keeps the
// input as a crash artifact) and an independent UTF-8 validator.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace flashsale::fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line,
                                  const std::string& detail) {
  std::fprintf(stderr, "PROPERTY VIOLATED at %s:%d: %s\n  %s\n", file, line, what,
               detail.c_str());
  std::abort();
}

/// Printable form of arbitrary bytes for messages: \xNN for anything not ASCII text.
inline std::string shown(std::string_view s, std::size_t limit = 200) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > limit)
    out += "...";
  return out;
}

/// Well-formed UTF-8 (Unicode Table 3-7): no overlong forms, nothing above U+10FFFF.
/// Surrogate code points (ED A0..BF xx) are refused only when `allow_surrogates` is
/// false: they are what a lone "\udc00" escape decodes to.
inline bool valid_utf8(std::string_view s, bool allow_surrogates) {
  std::size_t i = 0;
  auto cont = [&](std::size_t k) {
    return k < s.size() && (static_cast<unsigned char>(s[k]) & 0xc0) == 0x80;
  };
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      n = 2;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 3;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k < n; ++k) {
      if (!cont(i + k))
        return false;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    if (!allow_surrogates && cp >= 0xd800 && cp <= 0xdfff)
      return false;
    i += n;
  }
  return true;
}

/// Does the text hold a surrogate code point (in the three-byte form)?
inline bool has_surrogate(std::string_view s) {
  for (std::size_t i = 0; i + 1 < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) == 0xed
        && (static_cast<unsigned char>(s[i + 1]) & 0xe0) == 0xa0)
      return true;
  return false;
}

#ifdef FLASHSALE_FUZZ_STRICT_UNICODE
constexpr bool strict_unicode = true;
#else
constexpr bool strict_unicode = false;
#endif

/// The property every accepted string meets. With FLASHSALE_FUZZ_STRICT_UNICODE (on in
/// the suite: decoding refuses lone surrogates) that includes "no surrogates".
inline bool acceptable_string(std::string_view s) {
  return valid_utf8(s, !strict_unicode);
}

} // namespace flashsale::fuzz

#define FUZZ_CHECK(cond, detail)                                                      \
  do {                                                                                \
    if (!(cond))                                                                      \
      ::flashsale::fuzz::violated(#cond, __FILE__, __LINE__, (detail));               \
  } while (false)
