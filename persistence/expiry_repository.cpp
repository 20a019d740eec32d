#include "persistence/expiry_repository.hpp"

#include <pqxx/pqxx>

namespace flashsale::persistence {

namespace {

/// The earliest due rows of the deadline log, each judged live (its order still waits
/// in a non-terminal state for exactly this deadline) or stale (the order moved on);
/// the stale ones are deleted in the same statement, the live ones returned. A live row
/// stays until its order has expired, so a lost expiry is found again next sweep.
constexpr const char* due_sql = R"SQL(
WITH due AS (
  SELECT d.ctid AS row_id, d.order_id, d.due_at,
         coalesce(o.status IN ('CREATED', 'RESERVED', 'PAYMENT_PENDING')
                  AND o.expired_at = d.due_at, false) AS live
  FROM order_deadlines d LEFT JOIN orders o ON o.id = d.order_id
  WHERE d.due_at <= now()
  ORDER BY d.due_at
  LIMIT $1),
stale AS (
  DELETE FROM order_deadlines x USING due
  WHERE x.ctid = due.row_id AND NOT due.live)
SELECT order_id::text, live FROM due ORDER BY due_at
)SQL";

} // namespace

due_batch due_orders(pqxx::connection_base& conn, std::size_t limit) {
  pqxx::work tx{conn};
  auto rows = tx.exec_params(due_sql, static_cast<long>(limit));
  tx.commit();
  due_batch batch;
  batch.rows = rows.size();
  for (const auto& row : rows)
    if (row[1].as<bool>())
      batch.ids.push_back(row[0].as<std::string>());
  return batch;
}

} // namespace flashsale::persistence
