#include "persistence/shard_repository.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <set>

namespace flashsale::persistence {

namespace {

std::string int_array(const std::set<int>& xs) {
  std::string out = "{";
  for (int x : xs)
    out += (out.size() > 1 ? "," : "") + std::to_string(x);
  return out + "}";
}

} // namespace

std::vector<bool> stale_fences(pqxx::transaction_base& tx, const std::vector<shard_fence>& fences) {
  std::vector<bool> stale(fences.size(), false);
  std::set<int> shards;
  for (const auto& f : fences)
    if (f.fenced())
      shards.insert(f.shard);
  if (shards.empty())
    return stale;
  // One round trip, two statements: the second one's snapshot is taken after the locks
  // were granted (READ COMMITTED), so an acquisition that committed meanwhile is seen.
  // OFFSET 0 keeps the ordered subquery apart: the locks are taken in ascending order.
  // The list holds only integers, so it is written into the text as it is.
  auto list = int_array(shards);
  auto rows = tx.exec("SELECT count(pg_advisory_xact_lock_shared(" + std::to_string(shard_lock_space)
                      + ", s.shard)) FROM (SELECT shard FROM unnest('" + list
                      + "'::int[]) AS shard ORDER BY shard OFFSET 0) s; "
                        "SELECT shard, epoch FROM shard_owners WHERE shard = ANY('"
                      + list + "'::int[])");
  std::map<int, std::int64_t> epochs;
  for (const auto& r : rows)
    epochs.emplace(r[0].as<int>(), r[1].as<std::int64_t>());
  for (std::size_t i = 0; i < fences.size(); ++i) {
    if (!fences[i].fenced())
      continue;
    auto e = epochs.find(fences[i].shard);
    stale[i] = e == epochs.end() || e->second != fences[i].epoch;
  }
  return stale;
}

namespace {

/// Ends the server processes that hold `shard`'s lock (shared, by writers); returns how many.
std::size_t terminate_holders(pqxx::connection_base& conn, int shard) {
  pqxx::nontransaction tx{conn};
  auto r = tx.exec_params(
    "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l "
    "WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid "
    "AND l.objsubid = 2 AND l.granted AND l.pid <> pg_backend_pid()",
    shard_lock_space, shard);
  return r[0][0].as<std::size_t>();
}

std::int64_t raise_epoch(pqxx::connection_base& conn, int shard, const std::string& node_id,
                         std::chrono::milliseconds wait) {
  pqxx::work tx{conn};
  tx.exec("SET LOCAL lock_timeout = " + std::to_string(std::max<long>(1, wait.count())));
  tx.exec_params("SELECT pg_advisory_xact_lock($1, $2)", shard_lock_space, shard);
  auto r = tx.exec_params(
    "INSERT INTO shard_owners (shard, epoch, node_id, acquired_at) VALUES ($1, 1, $2, now()) "
    "ON CONFLICT (shard) DO UPDATE SET epoch = shard_owners.epoch + 1, node_id = EXCLUDED.node_id, "
    "acquired_at = now() RETURNING epoch",
    shard, node_id);
  auto epoch = r[0][0].as<std::int64_t>();
  tx.commit();
  return epoch;
}

} // namespace

std::int64_t acquire_shard(pqxx::connection_base& conn, int shard, const std::string& node_id,
                           std::chrono::milliseconds wait, std::size_t* terminated) {
  // Twice at most: a holder terminated after the first wait has released the lock;
  // a writer that took it meanwhile holds it for one transaction, well within `wait`.
  for (int attempt = 0;; ++attempt) {
    try {
      return raise_epoch(conn, shard, node_id, wait);
    } catch (const pqxx::sql_error& e) {
      // 55P03 lock_not_available: lock_timeout expired.
      if (e.sqlstate() != "55P03")
        throw;
      if (attempt >= 1)
        throw shard_lock_taken("shard " + std::to_string(shard) + ": its lock stays held ("
                               + e.what() + ")");
    }
    std::size_t n = 0;
    try {
      n = terminate_holders(conn, shard);
    } catch (const pqxx::insufficient_privilege& e) {
      // 42501: a holder this role may not end (a superuser's).
      throw shard_lock_taken("shard " + std::to_string(shard)
                             + ": its lock is held by a session this role may not end ("
                             + e.what() + ")");
    }
    if (terminated)
      *terminated += n;
  }
}

std::map<int, shard_owner> read_shard_owners(pqxx::connection_base& conn) {
  pqxx::read_transaction tx{conn};
  std::map<int, shard_owner> out;
  for (const auto& r : tx.exec("SELECT shard, node_id, epoch FROM shard_owners"))
    out[r[0].as<int>()] = {r[1].as<std::string>(), r[2].as<std::int64_t>()};
  return out;
}

std::size_t backfill_deadline_shards(pqxx::connection_base& conn, int count, std::size_t batch) {
  std::size_t changed = 0;
  for (;;) {
    pqxx::work tx{conn};
    auto ids = tx.exec_params("SELECT DISTINCT order_id::text FROM order_deadlines "
                              "WHERE shard IS NULL LIMIT $1",
                              static_cast<long>(batch));
    if (ids.empty())
      return changed;
    std::string id_list = "{", shard_list = "{";
    for (const auto& r : ids) {
      auto id = r[0].as<std::string>();
      id_list += (id_list.size() > 1 ? "," : "") + id;
      shard_list += (shard_list.size() > 1 ? "," : "") + std::to_string(shard_of(id, count));
    }
    auto r = tx.exec_params("UPDATE order_deadlines d SET shard = s.shard "
                            "FROM unnest($1::uuid[], $2::int[]) AS s(id, shard) "
                            "WHERE d.order_id = s.id AND d.shard IS NULL",
                            id_list + "}", shard_list + "}");
    changed += r.affected_rows();
    tx.commit();
  }
}

} // namespace flashsale::persistence
