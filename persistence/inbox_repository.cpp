#include "persistence/inbox_repository.hpp"

#include <pqxx/transaction>

namespace flashsale::persistence {

std::size_t delete_expired_inbox_rows(pqxx::connection_base& conn, std::chrono::seconds retention,
                                      std::size_t limit) {
  pqxx::work tx{conn, "inbox_janitor"};
  // SKIP LOCKED: a row a consumer transaction holds (a redelivery racing the window's
  // end) is left for the next round instead of making either wait.
  auto r = tx.exec_params("DELETE FROM processed_events WHERE event_id IN ("
                          "  SELECT p.event_id FROM processed_events p"
                          "   WHERE p.processed_at < now() - $1 * interval '1 second'"
                          "     AND NOT EXISTS (SELECT 1 FROM early_events e"
                          "                      WHERE e.event_id = p.event_id)"
                          "   ORDER BY p.processed_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                          static_cast<long>(retention.count()), static_cast<long>(limit));
  tx.commit();
  return r.affected_rows();
}

} // namespace flashsale::persistence
