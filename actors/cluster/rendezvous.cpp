#include "actors/cluster/rendezvous.hpp"

namespace flashsale {

namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

/// The splitmix64 finaliser: FNV-1a alone spreads similar keys (UUIDs differing in a
/// few characters) poorly in the high bits, which decide the comparison.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view text) {
  for (unsigned char c : text) {
    h ^= c;
    h *= fnv_prime;
  }
  return h;
}

} // namespace

std::uint64_t stable_hash(std::string_view text) {
  return mix(fnv1a(fnv_offset, text));
}

std::uint64_t rendezvous_weight(std::string_view node_id, std::string_view key) {
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  auto h = fnv1a(fnv_offset, node_id);
  h = fnv1a(h, std::string_view{"\0", 1});
  return mix(fnv1a(h, key));
}

std::string rendezvous_owner(std::string_view key, const std::vector<std::string>& nodes) {
  const std::string* best = nullptr;
  std::uint64_t best_weight = 0;
  for (const auto& n : nodes) {
    auto w = rendezvous_weight(n, key);
    if (!best || w > best_weight || (w == best_weight && n < *best)) {
      best = &n;
      best_weight = w;
    }
  }
  return best ? *best : std::string{};
}

} // namespace flashsale
