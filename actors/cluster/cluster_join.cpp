#include "actors/cluster/cluster_join.hpp"

#include "persistence/cluster_repository.hpp"
#include "persistence/pg_session.hpp"

#include <chrono>
#include <thread>
#include <vector>

namespace flashsale {

namespace {

/// The live node this one must not run beside (refuse_to_join), or null.
const persistence::node_row* clash(const cluster_settings& cfg,
                                   const std::vector<persistence::node_row>& live) {
  for (const auto& row : live)
    if (row.node_id != cfg.node_id && (cfg.caf_port == 0 || row.caf_port == 0))
      return &row;
  return nullptr;
}

std::string refusal(const cluster_settings& cfg, const persistence::node_row& other) {
  if (cfg.caf_port == 0)
    return "several nodes need mutual TLS: node " + other.node_id
           + " is live; set CLUSTER_TLS_CA, CLUSTER_TLS_CERT and CLUSTER_TLS_KEY on every "
             "node, or CLUSTER_INSECURE=1 to run them in plaintext on a trusted network";
  return "node " + other.node_id
         + " is live without a cluster port (started without CLUSTER_TLS_* and without "
           "CLUSTER_INSECURE=1, it runs alone and owns every order): stop it, or restart it "
           "with the cluster settings of this node, before starting more nodes";
}

} // namespace

std::optional<std::string> refuse_to_join(const cluster_settings& cfg) {
  persistence::node_row me{cfg.node_id, cfg.host, cfg.caf_port, cfg.http_url};
  persistence::pg_session db{cfg.database_url};
  // A row may be a crashed predecessor's (another pid, no leave): it lapses within the
  // timeout. Only a node still beating after timeout + heartbeat is really live.
  auto deadline = std::chrono::steady_clock::now() + cfg.timeout + cfg.heartbeat;
  // The first beat registers this node; only a second read, made after that commit,
  // may let it pass: of two nodes starting at once, at least one then sees the other.
  for (int beat = 0;; ++beat) {
    std::vector<persistence::node_row> live;
    try {
      live = db.with([&](pqxx::connection_base& conn) {
        return persistence::heartbeat(conn, me, beat == 0, cfg.timeout);
      });
    } catch (const std::exception&) {
      return std::nullopt; // the membership actor retries and reports the database
    }
    const auto* other = clash(cfg, live);
    if (!other) {
      if (beat > 0)
        return std::nullopt;
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      try {
        db.with([&](pqxx::connection_base& conn) {
          persistence::leave(conn, cfg.node_id);
          return 0;
        });
      } catch (const std::exception&) {
        // the row lapses after CLUSTER_TIMEOUT_MS
      }
      return refusal(cfg, *other);
    }
    std::this_thread::sleep_for(cfg.heartbeat);
  }
}

} // namespace flashsale
