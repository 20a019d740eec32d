#pragma once
// Who may run beside whom (CONTRACT §7): a node opens a cluster port only with
// CLUSTER_TLS_* or CLUSTER_INSECURE=1. One without (caf_port 0 in cluster_nodes) cannot
// receive forwarded commands, so it is never a peer and must run alone; two nodes that
// cannot reach each other would both own every order.

#include "actors/cluster/cluster.hpp"

#include <optional>
#include <string>

namespace flashsale {

/// A node without a cluster port (caf_port 0: no TLS, no CLUSTER_INSECURE=1) cannot be
/// a peer, so it must run alone (CONTRACT §7), or two nodes would own every order:
/// registers this node (its first heartbeat) and returns the one line to stop with
/// when, this node having no port, another node is live, or, this node having one, a
/// node without a port is live; live means still beating after timeout + heartbeat
/// (a crashed predecessor's row lapses meanwhile). Blocking (that long at most, and
/// only when such a row is live); call before spawn_cluster_member.
std::optional<std::string> refuse_to_join(const cluster_settings& settings);

} // namespace flashsale
