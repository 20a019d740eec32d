#include "messages/uuid.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include <sys/random.h>

namespace flashsale {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr std::size_t uuid_text_length = 36;
constexpr std::uint64_t unix_ms_mask = (std::uint64_t{1} << 48) - 1;

// An order id is all a caller needs to read or cancel an order without X-User-Id, so
// its random bits come from the kernel's CSPRNG (getrandom(2)), never from a
// generator whose state can be recovered from observed ids (mt19937_64 could).
void fill_random(std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    auto got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error("getrandom failed");
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
}

std::uint64_t unix_ms_now() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

bool is_dash_position(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string to_text(const std::array<std::uint8_t, 16>& bytes) {
  std::string out;
  out.reserve(uuid_text_length);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += hex_digits[bytes[i] >> 4];
    out += hex_digits[bytes[i] & 0x0f];
  }
  return out;
}

} // namespace

std::string new_uuid() {
  // RFC 9562 §5.7: 48-bit big-endian Unix ms, version 7, 12 random bits, variant
  // 0b10, 62 random bits.
  std::array<std::uint8_t, 16> b{};
  auto ms = unix_ms_now() & unix_ms_mask;
  for (int i = 0; i < 6; ++i)
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  fill_random(b.data() + 6, b.size() - 6);
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));
  return to_text(b);
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (text.size() != uuid_text_length)
    return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (is_dash_position(i)) {
      if (out[i] != '-')
        return std::nullopt;
      continue;
    }
    int v = hex_value(out[i]);
    if (v < 0)
      return std::nullopt;
    out[i] = hex_digits[static_cast<std::size_t>(v)];
  }
  return out;
}

} // namespace flashsale
