#include "persistence/expiry_repository.hpp"

#include <pqxx/pqxx>

#include <optional>

namespace flashsale::persistence {

namespace {

/// The earliest due rows of the deadline log that no other sweeper holds, each judged
/// live (its order still waits in a non-terminal state for exactly this deadline) or
/// stale (the order moved on); the stale ones are deleted in the same statement, the
/// live ones claimed for $2 milliseconds and returned. A live row stays until its order
/// has expired, so a lost expiry is found again once its claim lapses. A row also stays
/// live while its order is past CREATED and still holds early events (migration
/// 000008): the expire it brings makes the owner replay them, which recovers a replay
/// lost to a crash or a failed read between a transition and its replay.
constexpr const char* due_sql = R"SQL(
WITH due AS (
  SELECT d.ctid AS row_id, d.order_id, d.due_at,
         coalesce((o.status IN ('CREATED', 'RESERVED', 'PAYMENT_PENDING')
                   AND o.expired_at = d.due_at)
                  OR (o.status <> 'CREATED'
                      AND EXISTS (SELECT 1 FROM early_events e WHERE e.order_id = d.order_id)),
                  false) AS live
  FROM order_deadlines d LEFT JOIN orders o ON o.id = d.order_id
  WHERE d.due_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until <= now())
    AND ($3::int[] IS NULL OR d.shard = ANY($3::int[]))
  ORDER BY d.due_at
  LIMIT $1
  FOR UPDATE OF d SKIP LOCKED),
stale AS (
  DELETE FROM order_deadlines x USING due
  WHERE x.ctid = due.row_id AND NOT due.live),
claimed AS (
  UPDATE order_deadlines x SET claimed_until = now() + $2 * interval '1 millisecond'
  FROM due WHERE x.ctid = due.row_id AND due.live)
SELECT order_id::text, live FROM due ORDER BY due_at
)SQL";

} // namespace

due_batch due_orders(pqxx::connection_base& conn, std::size_t limit,
                     std::chrono::milliseconds claim, const std::vector<int>* shards) {
  std::optional<std::string> list; // NULL: every shard
  if (shards) {
    std::string l = "{";
    for (int s : *shards)
      l += (l.size() > 1 ? "," : "") + std::to_string(s);
    list = l + "}";
  }
  pqxx::work tx{conn};
  auto rows = tx.exec_params(due_sql, static_cast<long>(limit), static_cast<long>(claim.count()),
                             list);
  tx.commit();
  due_batch batch;
  batch.rows = rows.size();
  for (const auto& row : rows)
    if (row[1].as<bool>())
      batch.ids.push_back(row[0].as<std::string>());
  return batch;
}

} // namespace flashsale::persistence
