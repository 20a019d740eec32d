#include "messages/shard.hpp"

namespace flashsale {

namespace {

constexpr std::uint32_t murmur_seed = 0x9747b28cu;
constexpr std::uint32_t murmur_m = 0x5bd1e995u;
constexpr int murmur_r = 24;

std::uint32_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}

} // namespace

std::int32_t kafka_murmur2(std::string_view key) {
  // Java's int arithmetic wraps: the same operations on uint32_t give the same bits.
  const auto length = key.size();
  std::uint32_t h = murmur_seed ^ static_cast<std::uint32_t>(length);
  const auto blocks = length / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    auto b = i * 4;
    std::uint32_t k = byte_at(key, b) | (byte_at(key, b + 1) << 8) | (byte_at(key, b + 2) << 16)
                      | (byte_at(key, b + 3) << 24);
    k *= murmur_m;
    k ^= k >> murmur_r;
    k *= murmur_m;
    h *= murmur_m;
    h ^= k;
  }
  const auto tail = blocks * 4;
  switch (length % 4) {
    case 3:
      h ^= byte_at(key, tail + 2) << 16;
      [[fallthrough]];
    case 2:
      h ^= byte_at(key, tail + 1) << 8;
      [[fallthrough]];
    case 1:
      h ^= byte_at(key, tail);
      h *= murmur_m;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= murmur_m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

int shard_of(std::string_view key, int count) {
  auto positive = static_cast<std::uint32_t>(kafka_murmur2(key)) & 0x7fffffffu;
  return static_cast<int>(positive % static_cast<std::uint32_t>(count));
}

std::optional<std::string> mint_in_shards(const std::function<std::string()>& mint, int count,
                                          const std::function<bool(int)>& owned, int attempts) {
  if (count <= 0)
    return std::nullopt;
  for (int i = 0; i < attempts; ++i) {
    auto id = mint();
    if (owned(shard_of(id, count)))
      return id;
  }
  return std::nullopt;
}

} // namespace flashsale
