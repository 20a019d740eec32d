#pragma once
// Cluster membership in PostgreSQL (migrations/000003, DESIGN.md "Many nodes").
// Blocking: call only from a detached actor or a thread of its own.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace flashsale::persistence {

struct node_row {
  std::string node_id;
  std::string host;
  std::uint16_t caf_port = 0;
  std::string http_url;
};

/// Upserts this node's row with heartbeat_at = now(); `starting` also resets
/// started_at (the first beat of this process). Then returns every node whose heartbeat
/// is younger than `timeout` by the database's clock, this one included, by node id.
/// One transaction; throws on database errors.
std::vector<node_row> heartbeat(pqxx::connection_base& conn, const node_row& self, bool starting,
                                std::chrono::milliseconds timeout);

/// Marks this node as gone (heartbeat in the distant past), so that the others move
/// its orders at their next beat instead of after the timeout.
void leave(pqxx::connection_base& conn, const std::string& node_id);

} // namespace flashsale::persistence
