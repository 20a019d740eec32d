#include "persistence/cluster_repository.hpp"

#include <pqxx/pqxx>

namespace flashsale::persistence {

std::vector<node_row> heartbeat(pqxx::connection_base& conn, const node_row& self, bool starting,
                                std::chrono::milliseconds timeout) {
  pqxx::work tx{conn};
  tx.exec_params("INSERT INTO cluster_nodes"
                 " (node_id, host, caf_port, http_url, heartbeat_at, started_at)"
                 " VALUES ($1, $2, $3, $4, now(), now())"
                 " ON CONFLICT (node_id) DO UPDATE SET host = EXCLUDED.host,"
                 " caf_port = EXCLUDED.caf_port, http_url = EXCLUDED.http_url,"
                 " heartbeat_at = now(),"
                 " started_at = CASE WHEN $5 THEN now() ELSE cluster_nodes.started_at END",
                 self.node_id, self.host, static_cast<int>(self.caf_port), self.http_url, starting);
  auto rows = tx.exec_params("SELECT node_id, host, caf_port, http_url FROM cluster_nodes"
                             " WHERE heartbeat_at > now() - make_interval(secs => $1)"
                             " ORDER BY node_id",
                             static_cast<double>(timeout.count()) / 1000.0);
  tx.commit();
  std::vector<node_row> live;
  live.reserve(rows.size());
  for (const auto& r : rows)
    live.push_back({r[0].as<std::string>(), r[1].as<std::string>(),
                    static_cast<std::uint16_t>(r[2].as<int>()), r[3].as<std::string>()});
  return live;
}

void leave(pqxx::connection_base& conn, const std::string& node_id) {
  pqxx::nontransaction tx{conn};
  tx.exec_params("UPDATE cluster_nodes SET heartbeat_at = '-infinity' WHERE node_id = $1", node_id);
}

} // namespace flashsale::persistence
