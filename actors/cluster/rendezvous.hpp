#pragma once
// Which node owns an order (DESIGN.md "Many nodes"): rendezvous, or highest random
// weight, hashing. Every node scores (node id, order id) pairs with the same stable
// hash, so all nodes that see the same live set agree on every owner without talking,
// and a node leaving moves only its own orders. Pure: no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flashsale {

/// A 64-bit hash that is the same on every machine and every run (FNV-1a with a
/// final avalanche mix); std::hash promises neither.
std::uint64_t stable_hash(std::string_view text);

/// The weight of `node_id` for `key`; the owner is the node with the highest weight.
std::uint64_t rendezvous_weight(std::string_view node_id, std::string_view key);

/// The owner of `key` among `nodes` (ties, which need a hash collision, go to the
/// smaller node id); empty when `nodes` is empty.
std::string rendezvous_owner(std::string_view key, const std::vector<std::string>& nodes);

} // namespace flashsale
