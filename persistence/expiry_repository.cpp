#include "persistence/expiry_repository.hpp"

#include <pqxx/pqxx>

namespace flashsale::persistence {

std::vector<std::string> due_orders(pqxx::connection_base& conn, std::size_t limit) {
  // The status list repeats the partial index's predicate word for word, so the
  // planner can use orders_deadline.
  pqxx::nontransaction tx{conn};
  auto rows = tx.exec_params("SELECT id::text FROM orders"
                             " WHERE status IN ('CREATED', 'RESERVED', 'PAYMENT_PENDING')"
                             " AND expired_at <= now()"
                             " ORDER BY expired_at LIMIT $1",
                             static_cast<long>(limit));
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const auto& row : rows)
    ids.push_back(row[0].as<std::string>());
  return ids;
}

} // namespace flashsale::persistence
