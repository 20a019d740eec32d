#include "persistence/order_repository.hpp"

#include "persistence/pg_session.hpp"
#include "persistence/shard_repository.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <unordered_map>

namespace flashsale::persistence {

namespace {

constexpr const char* order_columns =
  "o.id::text, o.user_id::text, o.status, o.currency, o.total_amount, "
  "extract(epoch from o.created_at)::bigint, extract(epoch from o.updated_at)::bigint, "
  "extract(epoch from o.expired_at)::bigint, coalesce(o.reason, ''), "
  "o.request_hash, o.idempotency_key, extract(epoch from o.created_expired_at)::bigint";
constexpr int first_item_column = 12;

struct stored_order {
  order value;
  std::string request_hash;
  std::string idempotency_key;
  std::optional<std::int64_t> created_expired_at; // the deadline it was created with
};

/// The order as its first 201 showed it (CONTRACT §3: a replay answers that body).
/// Items, amounts and created_at never change; the rest is what a create sets.
order as_created(const stored_order& s) {
  order o = s.value;
  o.status = order_status::created;
  o.updated_at = o.created_at;
  o.expired_at = s.created_expired_at;
  o.reason.clear();
  return o;
}

stored_order read_order_row(const pqxx::row& r) {
  stored_order s;
  order& o = s.value;
  o.id = r[0].as<std::string>();
  o.user_id = r[1].as<std::string>();
  o.status = parse_order_status(r[2].c_str()).value_or(order_status::created);
  o.currency = r[3].as<std::string>();
  o.total_amount = r[4].as<std::int64_t>();
  o.created_at = r[5].as<std::int64_t>();
  o.updated_at = r[6].as<std::int64_t>();
  if (!r[7].is_null())
    o.expired_at = r[7].as<std::int64_t>();
  o.reason = r[8].as<std::string>();
  s.request_hash = r[9].as<std::string>();
  s.idempotency_key = r[10].as<std::string>();
  if (!r[11].is_null())
    s.created_expired_at = r[11].as<std::int64_t>();
  return s;
}

std::string uuid_array(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  std::string list;
  for (const auto& id : ids)
    list += (list.empty() ? "" : ",") + id; // ids are validated UUIDs
  return tx.quote("{" + list + "}") + "::uuid[]";
}

/// `FROM` an id list joined to `table`: with `= ANY(array)` the planner turned large
/// batches into sequential scans with a hashed array test; a join on unnest keeps to
/// the primary-key index however large the table grows.
std::string by_ids(pqxx::transaction_base& tx, const std::vector<std::string>& ids,
                   const char* table, const char* alias, const char* key) {
  return std::string{"unnest("} + uuid_array(tx, ids) + ") AS k(id) JOIN " + table + " "
         + alias + " ON " + alias + "." + key + " = k.id";
}

/// Orders from `from` (aliased o) matching `where`, in `order_by` order (which must end
/// with a unique key so that each order's rows come together), with their items, in one
/// statement. The items come through a lateral lookup on order_items' primary key:
/// joined as a set, a young table without statistics got a hash join over a sequential
/// scan of every item (7 ms for 100 orders out of 40 000 instead of under one).
std::vector<stored_order> select_orders(pqxx::transaction_base& tx, const std::string& where,
                                        const std::string& order_by = "o.id",
                                        const std::string& limit = "",
                                        const std::string& from = "orders o") {
  auto rows = tx.exec(std::string{"SELECT "} + order_columns
                      + ", i.sku_id, i.quantity, i.price FROM (SELECT o.* FROM " + from
                      + " WHERE " + where
                      + (limit.empty() ? std::string{} : " ORDER BY " + order_by + " " + limit)
                      + ") o LEFT JOIN LATERAL (SELECT sku_id, quantity, price, line_no "
                        "FROM order_items WHERE order_id = o.id) i ON true ORDER BY "
                      + order_by + ", i.line_no");
  std::vector<stored_order> result;
  for (const auto& r : rows) {
    if (result.empty() || result.back().value.id != r[0].c_str())
      result.push_back(read_order_row(r));
    const int i = first_item_column;
    if (!r[i].is_null())
      result.back().value.items.push_back(
        {r[i].as<std::string>(), r[i + 1].as<std::int32_t>(), r[i + 2].as<std::int64_t>()});
  }
  return result;
}

/// PostgreSQL array literal of text elements, each quoted and escaped.
class array_literal {
public:
  void add(const std::string& value) {
    out_ += out_.size() > 1 ? ",\"" : "\"";
    for (char c : value) {
      if (c == '"' || c == '\\')
        out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void add(std::int64_t value) { add(std::to_string(value)); }
  std::string str() const { return out_ + "}"; }

private:
  std::string out_ = "{";
};

/// One prepared statement inserts the orders that do not collide on (user, key), and
/// the items and events of exactly those orders: one round trip for the whole batch,
/// parsed and planned once per connection. Rows travel as arrays, one per column.
constexpr const char* create_batch_name = "fs_create_orders";
constexpr const char* create_batch_sql = R"SQL(
WITH new_orders AS (
  INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, currency,
                      total_amount, created_at, updated_at, expired_at, created_expired_at,
                      shard, epoch)
  SELECT o.id, o.user_id, o.idem_key, o.request_hash, 'CREATED', o.currency, o.total,
         to_timestamp(o.created_at), to_timestamp(o.created_at), to_timestamp(o.deadline),
         to_timestamp(o.deadline), NULLIF(o.shard, -1), NULLIF(o.epoch, 0)
  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[],
              $7::bigint[], $8::bigint[], $18::int[], $19::bigint[])
       AS o(id, user_id, idem_key, request_hash, currency, total, created_at, deadline,
            shard, epoch)
  -- One insertion order for every writer: two batches holding the same keys then wait
  -- for each other instead of deadlocking.
  ORDER BY o.user_id, o.idem_key
  ON CONFLICT (user_id, idempotency_key) DO NOTHING
  RETURNING id, expired_at, shard),
new_deadlines AS (
  INSERT INTO order_deadlines (due_at, order_id, shard)
  SELECT n.expired_at, n.id, n.shard FROM new_orders n),
new_items AS (
  INSERT INTO order_items (order_id, line_no, sku_id, quantity, price)
  SELECT i.order_id, i.line_no, i.sku_id, i.quantity, i.price
  FROM unnest($9::uuid[], $10::int[], $11::text[], $12::int[], $13::bigint[])
       AS i(order_id, line_no, sku_id, quantity, price)
  JOIN new_orders n ON n.id = i.order_id),
new_events AS (
  INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload, traceparent)
  SELECT e.event_id, e.order_id, 'ORDER_CREATED', e.payload, NULLIF(e.traceparent, '')
  FROM unnest($14::uuid[], $15::uuid[], $16::text[], $17::text[])
       AS e(event_id, order_id, payload, traceparent)
  JOIN new_orders n ON n.id = e.order_id)
SELECT id::text FROM new_orders
)SQL";

pqxx::result insert_batch(pqxx::transaction_base& tx,
                          const std::vector<const create_command*>& cmds) {
  array_literal ids, users, keys, hashes, currencies, totals, created, deadlines;
  array_literal item_orders, lines, skus, quantities, prices;
  array_literal event_ids, event_orders, payloads, traceparents, shards, epochs;
  for (const auto* c : cmds) {
    const order& o = c->fresh;
    ids.add(o.id);
    shards.add(static_cast<std::int64_t>(c->fence.shard));
    epochs.add(c->fence.epoch);
    users.add(o.user_id);
    keys.add(c->idempotency_key);
    hashes.add(c->fingerprint);
    currencies.add(o.currency);
    totals.add(o.total_amount);
    created.add(o.created_at);
    deadlines.add(o.expired_at.value_or(o.created_at));
    for (std::size_t i = 0; i < o.items.size(); ++i) {
      item_orders.add(o.id);
      lines.add(static_cast<std::int64_t>(i));
      skus.add(o.items[i].sku_id);
      quantities.add(o.items[i].quantity);
      prices.add(o.items[i].price);
    }
    event_ids.add(c->created_event.event_id);
    event_orders.add(o.id);
    payloads.add(c->created_event.envelope);
    traceparents.add(c->created_event.traceparent);
  }
  tx.conn().prepare(create_batch_name, create_batch_sql); // no-op once registered
  return tx.exec_prepared(create_batch_name, ids.str(), users.str(), keys.str(), hashes.str(),
                          currencies.str(), totals.str(), created.str(), deadlines.str(),
                          item_orders.str(), lines.str(), skus.str(), quantities.str(),
                          prices.str(), event_ids.str(), event_orders.str(), payloads.str(),
                          traceparents.str(), shards.str(), epochs.str());
}

using stored_by_key = std::map<std::pair<std::string, std::string>, stored_order>;

/// The stored orders holding the (user, idempotency key) of the commands at `idx`.
stored_by_key find_by_keys(pqxx::transaction_base& tx,
                           const std::vector<const create_command*>& cmds,
                           const std::vector<std::size_t>& idx) {
  stored_by_key found;
  std::string pairs;
  for (auto i : idx)
    pairs += (pairs.empty() ? "" : ",") + std::string{"("} + tx.quote(cmds[i]->fresh.user_id)
             + "::uuid," + tx.quote(cmds[i]->idempotency_key) + ")";
  if (pairs.empty())
    return found;
  for (auto& s : select_orders(tx, "(o.user_id, o.idempotency_key) IN (" + pairs + ")"))
    found.emplace(std::make_pair(s.value.user_id, s.idempotency_key), std::move(s));
  return found;
}

/// The outcome of `cmd` when `existing`, another order, holds its key: a replay of it
/// (same body) or a key reuse.
create_outcome collision_outcome(const create_command& cmd, const stored_order& existing) {
  create_outcome out;
  bool same = existing.request_hash == cmd.fingerprint;
  out.status = same ? create_status::replayed : create_status::key_reused;
  out.stored = same ? as_created(existing) : existing.value;
  return out;
}

/// Resolves the commands whose (user, key) was taken: replay or key reuse.
void resolve_collisions(pqxx::transaction_base& tx,
                        const std::vector<const create_command*>& cmds,
                        std::vector<create_outcome>& out) {
  std::vector<std::size_t> taken;
  for (std::size_t i = 0; i < cmds.size(); ++i)
    if (out[i].status != create_status::created)
      taken.push_back(i);
  auto existing = find_by_keys(tx, cmds, taken);
  for (auto i : taken) {
    auto found = existing.find({cmds[i]->fresh.user_id, cmds[i]->idempotency_key});
    if (found == existing.end())
      throw std::logic_error("idempotency conflict without a stored order");
    out[i] = collision_outcome(*cmds[i], found->second);
  }
}

/// COMMIT, unless `may_commit` refuses: then `tx` rolls back as it goes out of scope.
/// A connection lost during COMMIT leaves the outcome unknown; the caller finds it out
/// (resolve_in_doubt) with the server process that ran it.
void commit_unless_withdrawn(pqxx::work& tx, const commit_gate& may_commit) {
  if (may_commit && !may_commit())
    throw commit_withdrawn{};
  int pid = tx.conn().backendpid();
  try {
    tx.commit();
  } catch (const pqxx::in_doubt_error&) {
    throw commit_in_doubt{pid};
  }
}

void notify_outbox(pqxx::transaction_base& tx) {
  tx.exec(std::string{"SELECT pg_notify('"} + outbox_channel + "', '')");
}

} // namespace

namespace {

/// Inserts `cmds` in `tx` and decides every outcome; true when any order was new.
bool create_in(pqxx::transaction_base& tx, const std::vector<const create_command*>& cmds,
               std::vector<create_outcome>& out) {
  out.assign(cmds.size(), create_outcome{});
  std::unordered_map<std::string, bool> inserted;
  for (const auto& r : insert_batch(tx, cmds))
    inserted.emplace(r[0].as<std::string>(), true);
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (inserted.count(cmds[i]->fresh.id)) {
      out[i].status = create_status::created;
      out[i].stored = cmds[i]->fresh;
    } else {
      out[i].status = create_status::replayed; // decided below
    }
  }
  resolve_collisions(tx, cmds, out);
  return !inserted.empty();
}

/// The answer for a command whose own values the database rejected.
api_error rejected_value() {
  return {error_code::validation_failed, "a value of the request was rejected by the database"};
}

/// Runs `attempt(tx, part)` for the commands at `idx` in a savepoint. When the database
/// rejects the data of one of them, halves the group and tries again, down to the one
/// command, which `reject` answers: the other commands of the batch still commit, in
/// about 2 log2(n) savepoints for one bad command. Any other error propagates.
/// Savepoints by hand: pqxx 6's subtransaction opens its savepoint lazily, and not
/// before a prepared statement, so the failure aborted the whole transaction.
template <class Attempt, class Reject>
void isolate(pqxx::transaction_base& tx, const std::vector<std::size_t>& idx, Attempt attempt,
             Reject reject) {
  if (idx.empty())
    return;
  tx.exec("SAVEPOINT fs_isolate");
  try {
    attempt(tx, idx);
    tx.exec("RELEASE SAVEPOINT fs_isolate");
    return;
  } catch (const pqxx::sql_error&) {
    if (!is_data_error(std::current_exception()))
      throw;
  }
  tx.exec("ROLLBACK TO SAVEPOINT fs_isolate");
  tx.exec("RELEASE SAVEPOINT fs_isolate");
  if (idx.size() == 1) {
    reject(idx.front());
    return;
  }
  auto mid = idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2);
  isolate(tx, std::vector<std::size_t>(idx.begin(), mid), attempt, reject);
  isolate(tx, std::vector<std::size_t>(mid, idx.end()), attempt, reject);
}

std::vector<std::size_t> all_indexes(std::size_t n) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i)
    idx[i] = i;
  return idx;
}

/// The answer for a command whose writer no longer owns the order's shard.
api_error fenced_error() {
  return {error_code::unavailable, "this node no longer owns the order, retry"};
}

/// The positions of `cmds` whose fence holds (shard_repository.hpp: the shards' locks
/// are held shared from here to the end of `tx`); the others are answered `fenced`.
template <class Cmd, class Outcome, class Status>
std::vector<std::size_t> unfenced(pqxx::transaction_base& tx, const std::vector<const Cmd*>& cmds,
                                  std::vector<Outcome>& out, Status fenced) {
  std::vector<shard_fence> fences;
  fences.reserve(cmds.size());
  for (const auto* c : cmds)
    fences.push_back(c->fence);
  auto stale = stale_fences(tx, fences);
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (!stale[i]) {
      keep.push_back(i);
      continue;
    }
    out[i] = Outcome{};
    out[i].status = fenced;
    out[i].error = fenced_error();
  }
  return keep;
}

/// The batch again after the database rejected it for the data of some command.
std::vector<create_outcome> create_isolated(pqxx::connection_base& conn,
                                            const std::vector<const create_command*>& cmds,
                                            const commit_gate& may_commit) {
  std::vector<create_outcome> out(cmds.size());
  bool any_new = false;
  pqxx::work tx{conn};
  isolate(
    tx, unfenced(tx, cmds, out, create_status::fenced),
    [&](pqxx::transaction_base& sp, const std::vector<std::size_t>& idx) {
      std::vector<const create_command*> part;
      for (auto i : idx)
        part.push_back(cmds[i]);
      std::vector<create_outcome> part_out;
      bool part_new = create_in(sp, part, part_out);
      for (std::size_t k = 0; k < idx.size(); ++k)
        out[idx[k]] = std::move(part_out[k]);
      any_new |= part_new; // a rolled-back group throws before this line
    },
    [&](std::size_t i) {
      out[i] = create_outcome{};
      out[i].error = rejected_value();
    });
  if (any_new)
    notify_outbox(tx);
  commit_unless_withdrawn(tx, may_commit);
  return out;
}

} // namespace

std::vector<create_outcome> create_orders(pqxx::connection_base& conn,
                                          const std::vector<const create_command*>& cmds,
                                          const commit_gate& may_commit) {
  std::vector<create_outcome> out(cmds.size());
  if (cmds.empty())
    return out;
  try {
    pqxx::work tx{conn};
    auto keep = unfenced(tx, cmds, out, create_status::fenced);
    std::vector<const create_command*> part;
    for (auto i : keep)
      part.push_back(cmds[i]);
    std::vector<create_outcome> part_out;
    if (!part.empty() && create_in(tx, part, part_out))
      notify_outbox(tx);
    for (std::size_t k = 0; k < keep.size(); ++k)
      out[keep[k]] = std::move(part_out[k]);
    commit_unless_withdrawn(tx, may_commit);
    return out;
  } catch (const pqxx::sql_error&) {
    if (!is_data_error(std::current_exception()))
      throw;
  }
  // One command's values were rejected (the whole transaction rolled back): find it,
  // commit the others. Rare, so the common path pays nothing for it.
  return create_isolated(conn, cmds, may_commit);
}

namespace {

/// How often resolve_in_doubt looks whether the server process it ended is gone.
constexpr std::chrono::milliseconds gone_poll{10};

/// Ends server process `pid` and returns once it is gone: its transaction has then been
/// rolled back or committed for good (a COMMIT it still runs cannot land later). Bounded
/// by the caller's call watchdog (pg_session::with).
void end_backend(pqxx::connection_base& conn, int pid) {
  pqxx::nontransaction tx{conn}; // each query its own snapshot of pg_stat_activity
  tx.exec_params("SELECT pg_terminate_backend($1)", pid);
  while (!tx.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).empty())
    std::this_thread::sleep_for(gone_poll);
}

} // namespace

std::vector<create_outcome> resolve_in_doubt(pqxx::connection_base& conn, int backend_pid,
                                             const std::vector<const create_command*>& cmds) {
  if (backend_pid != 0)
    end_backend(conn, backend_pid);
  pqxx::read_transaction tx{conn};
  auto existing = find_by_keys(tx, cmds, all_indexes(cmds.size()));
  std::vector<create_outcome> out(cmds.size());
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    auto found = existing.find({cmds[i]->fresh.user_id, cmds[i]->idempotency_key});
    if (found == existing.end()) {
      out[i].error = {error_code::unavailable, "the database connection was lost before the "
                                               "commit completed; nothing was committed"};
    } else if (found->second.value.id == cmds[i]->fresh.id) {
      out[i].status = create_status::created;
      out[i].stored = cmds[i]->fresh;
    } else {
      out[i] = collision_outcome(*cmds[i], found->second);
    }
  }
  return out;
}

namespace {

/// A batch of guarded writes in one round trip: the inbox rows first; each UPDATE only
/// if its event id was new and the status is still the expected one; each outbox row,
/// each hold (early_events, migration 000008) and each new state's deadline
/// (order_deadlines, migration 000004) only if its UPDATE happened. A write without a status change updates the row to
/// itself, which takes the row lock and so keeps each order's outbox rows in commit
/// order. One row a command in, one row a command out: (idx, fresh, applied, exists).
constexpr const char* write_batch_name = "fs_write_orders";
constexpr const char* write_batch_sql = R"SQL(
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                       $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[],
                       $11::text[], $12::text[], $13::text[], $14::text[], $15::int[],
                       $16::bigint[])
    AS t(idx, order_id, expected, next, reason, deadline, now_ms, inbox_id, inbox_type,
         event_id, event_type, payload, hold_body, traceparent, shard, epoch)),
inbox AS (
  INSERT INTO processed_events (event_id, order_id, event_type)
  SELECT NULLIF(inbox_id, '')::uuid, order_id, inbox_type FROM input WHERE inbox_id <> ''
  ORDER BY inbox_id
  ON CONFLICT DO NOTHING
  RETURNING event_id),
fresh AS (
  SELECT i.* FROM input i
  WHERE i.inbox_id = '' OR NULLIF(i.inbox_id, '')::uuid IN (SELECT event_id FROM inbox)),
upd AS (
  UPDATE orders o SET
    status = f.next,
    reason = CASE WHEN f.next = f.expected THEN o.reason ELSE NULLIF(f.reason, '') END,
    updated_at = CASE WHEN f.next = f.expected THEN o.updated_at
                      ELSE to_timestamp(f.now_ms / 1000) END, -- whole seconds, as the actor keeps it
    expired_at = CASE WHEN f.next = f.expected THEN o.expired_at
                      ELSE to_timestamp(NULLIF(f.deadline, '')::bigint) END,
    shard = coalesce(NULLIF(f.shard, -1), o.shard),
    epoch = NULLIF(f.epoch, 0)
  FROM fresh f
  WHERE o.id = f.order_id AND o.status = f.expected
  RETURNING f.idx, o.id, o.expired_at, o.shard, f.next <> f.expected AS moved),
dl AS (
  INSERT INTO order_deadlines (due_at, order_id, shard)
  SELECT u.expired_at, u.id, u.shard FROM upd u WHERE u.moved AND u.expired_at IS NOT NULL),
ev AS (
  INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload, traceparent)
  SELECT NULLIF(f.event_id, '')::uuid, f.order_id, f.event_type, f.payload,
         NULLIF(f.traceparent, '')
  FROM fresh f JOIN upd u ON u.idx = f.idx
  WHERE f.event_id <> ''
  ORDER BY f.idx),
held AS (
  INSERT INTO early_events (event_id, order_id, event_type, body)
  SELECT NULLIF(f.inbox_id, '')::uuid, f.order_id, f.inbox_type, f.hold_body
  FROM fresh f JOIN upd u ON u.idx = f.idx
  WHERE f.hold_body <> '' AND f.inbox_id <> ''
  ON CONFLICT DO NOTHING)
SELECT r.idx, r.fresh, r.applied,
       r.applied OR EXISTS (SELECT 1 FROM orders o WHERE o.id = r.order_id) -- only if needed
FROM (SELECT i.idx, i.order_id,
             i.inbox_id = '' OR NULLIF(i.inbox_id, '')::uuid IN (SELECT event_id FROM inbox)
               AS fresh,
             i.idx IN (SELECT idx FROM upd) AS applied
      FROM input i) AS r
ORDER BY r.idx
)SQL";

/// Splits a batch into rounds in which no order and no inbox event id appears twice,
/// so that one statement decides every command of a round on its own (normally the
/// whole batch is one round: an order actor waits for each write before the next).
std::vector<std::vector<std::size_t>> rounds_of(const std::vector<const write_command*>& cmds) {
  std::vector<std::vector<std::size_t>> rounds;
  std::vector<std::pair<std::unordered_map<std::string, bool>,
                        std::unordered_map<std::string, bool>>> seen;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const auto& c = *cmds[i];
    std::size_t r = 0;
    while (r < rounds.size()
           && (seen[r].first.count(c.order_id)
               || (!c.inbox_event_id.empty() && seen[r].second.count(c.inbox_event_id))))
      ++r;
    if (r == rounds.size()) {
      rounds.emplace_back();
      seen.emplace_back();
    }
    rounds[r].push_back(i);
    seen[r].first.emplace(c.order_id, true);
    if (!c.inbox_event_id.empty())
      seen[r].second.emplace(c.inbox_event_id, true);
  }
  return rounds;
}

void write_round(pqxx::transaction_base& tx, const std::vector<const write_command*>& cmds,
                 const std::vector<std::size_t>& round, std::vector<write_outcome>& out) {
  if (round.empty())
    return;
  array_literal idx, ids, expected, next, reasons, deadlines, now, inbox_ids, inbox_types,
    event_ids, event_types, payloads, holds, traceparents, shards, epochs;
  for (auto i : round) {
    const auto& c = *cmds[i];
    idx.add(static_cast<std::int64_t>(i));
    shards.add(static_cast<std::int64_t>(c.fence.shard));
    epochs.add(c.fence.epoch);
    ids.add(c.order_id);
    expected.add(std::string{to_string(c.expected)});
    next.add(std::string{to_string(c.next)});
    reasons.add(c.reason);
    deadlines.add(c.deadline ? std::to_string(*c.deadline) : std::string{});
    now.add(c.now_ms);
    inbox_ids.add(c.inbox_event_id);
    inbox_types.add(c.inbox_event_type);
    event_ids.add(c.event ? c.event->event_id : std::string{});
    event_types.add(c.event ? c.event->event_type : std::string{});
    payloads.add(c.event ? c.event->envelope : std::string{});
    holds.add(c.hold_body);
    traceparents.add(c.event ? c.event->traceparent : std::string{});
  }
  auto rows = tx.exec_prepared(write_batch_name, idx.str(), ids.str(), expected.str(),
                               next.str(), reasons.str(), deadlines.str(), now.str(),
                               inbox_ids.str(), inbox_types.str(), event_ids.str(),
                               event_types.str(), payloads.str(), holds.str(),
                               traceparents.str(), shards.str(), epochs.str());
  array_literal undo; // inbox rows of events that did not apply: they must stay deliverable
  bool any_undo = false;
  for (const auto& r : rows) {
    auto i = r[0].as<std::size_t>();
    bool fresh = r[1].as<bool>(), applied = r[2].as<bool>(), exists = r[3].as<bool>();
    if (!fresh)
      out[i] = {write_status::duplicate, {}};
    else if (applied)
      out[i] = {write_status::applied, {}};
    else
      out[i] = {exists ? write_status::stale : write_status::not_found, {}};
    if (fresh && !applied && !cmds[i]->inbox_event_id.empty()) {
      undo.add(cmds[i]->inbox_event_id);
      any_undo = true;
    }
  }
  if (any_undo)
    tx.exec_params("DELETE FROM processed_events WHERE event_id = ANY($1::uuid[])", undo.str());
}

/// The held events a round replays, taken out of early_events before its statement.
struct released_rows {
  std::vector<std::size_t> round; // the commands left to write (a release found its row)
  std::vector<std::size_t> taken; // the releases whose row was deleted here
  std::unordered_map<std::string, pqxx::row> rows; // by event id
};

/// Deletes the rows the round's releases name, first: the row lock orders two writers
/// replaying the same event (a handover), and the one that finds its row gone has
/// nothing left to do (duplicate) — without this, a rejection (no status change, so no
/// guard) could commit twice.
released_rows take_releases(pqxx::transaction_base& tx,
                            const std::vector<const write_command*>& cmds,
                            const std::vector<std::size_t>& round,
                            std::vector<write_outcome>& out) {
  released_rows r;
  array_literal wanted;
  for (auto i : round)
    if (!cmds[i]->release_event_id.empty())
      wanted.add(cmds[i]->release_event_id);
  if (wanted.str() != "{}")
    for (const auto& row : tx.exec_params(
           "DELETE FROM early_events WHERE event_id = ANY($1::uuid[]) RETURNING event_id::text, "
           "order_id::text, event_type, body, received_at::text",
           wanted.str()))
      r.rows.emplace(row[0].as<std::string>(), row);
  std::unordered_map<std::string, bool> claimed;
  for (auto i : round) {
    const auto& id = cmds[i]->release_event_id;
    if (id.empty()) {
      r.round.push_back(i);
    } else if (r.rows.count(id) && claimed.emplace(id, true).second) {
      r.round.push_back(i);
      r.taken.push_back(i);
    } else {
      out[i] = {write_status::duplicate, {}};
    }
  }
  return r;
}

/// Puts back the rows of releases whose guarded UPDATE did not apply (stale): the event
/// is still held and replayed later.
void restore_releases(pqxx::transaction_base& tx, const std::vector<const write_command*>& cmds,
                      const released_rows& r, const std::vector<write_outcome>& out) {
  array_literal ids, orders, types, bodies, received;
  bool any = false;
  for (auto i : r.taken) {
    if (out[i].status == write_status::applied)
      continue;
    const auto& row = r.rows.at(cmds[i]->release_event_id);
    ids.add(row[0].as<std::string>());
    orders.add(row[1].as<std::string>());
    types.add(row[2].as<std::string>());
    bodies.add(row[3].as<std::string>());
    received.add(row[4].as<std::string>());
    any = true;
  }
  if (any)
    tx.exec_params("INSERT INTO early_events (event_id, order_id, event_type, body, received_at) "
                   "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], "
                   "$5::timestamptz[])",
                   ids.str(), orders.str(), types.str(), bodies.str(), received.str());
}

} // namespace

namespace {

void notify_if_events(pqxx::transaction_base& tx, const std::vector<const write_command*>& cmds,
                      const std::vector<write_outcome>& out) {
  bool any_event = false;
  for (std::size_t i = 0; i < cmds.size(); ++i)
    any_event |= out[i].status == write_status::applied && cmds[i]->event.has_value();
  if (any_event)
    notify_outbox(tx);
}

/// Every round of `cmds` in `tx`: its held-event releases taken first and put back
/// where they did not apply, its commands written by `write(indexes)`.
template <class WriteRound>
void write_rounds(pqxx::transaction_base& tx, const std::vector<const write_command*>& cmds,
                  std::vector<write_outcome>& out, WriteRound write) {
  auto keep = unfenced(tx, cmds, out, write_status::fenced);
  std::vector<bool> kept(cmds.size(), false);
  for (auto i : keep)
    kept[i] = true;
  for (auto round : rounds_of(cmds)) {
    round.erase(std::remove_if(round.begin(), round.end(), [&](std::size_t i) { return !kept[i]; }),
                round.end());
    if (round.empty())
      continue;
    auto released = take_releases(tx, cmds, round, out);
    write(released.round);
    restore_releases(tx, cmds, released, out);
  }
  notify_if_events(tx, cmds, out);
}

/// The batch again after the database rejected it for the data of some command: each
/// round in savepoints, halved around the command at fault (see isolate()).
std::vector<write_outcome> write_isolated(pqxx::connection_base& conn,
                                          const std::vector<const write_command*>& cmds) {
  std::vector<write_outcome> out(cmds.size());
  pqxx::work tx{conn};
  write_rounds(tx, cmds, out, [&](const std::vector<std::size_t>& round) {
    isolate(
      tx, round,
      [&](pqxx::transaction_base& sp, const std::vector<std::size_t>& idx) {
        write_round(sp, cmds, idx, out);
      },
      [&](std::size_t i) {
        out[i] = {write_status::failed, rejected_value()};
      });
  });
  tx.commit();
  return out;
}

} // namespace

std::vector<write_outcome> write_orders(pqxx::connection_base& conn,
                                        const std::vector<const write_command*>& cmds) {
  std::vector<write_outcome> out(cmds.size());
  conn.prepare(write_batch_name, write_batch_sql); // no-op once registered
  try {
    pqxx::work tx{conn};
    write_rounds(tx, cmds, out,
                 [&](const std::vector<std::size_t>& round) { write_round(tx, cmds, round, out); });
    tx.commit();
    return out;
  } catch (const pqxx::sql_error&) {
    if (!is_data_error(std::current_exception()))
      throw;
  }
  return write_isolated(conn, cmds);
}

std::optional<order> load_order(pqxx::connection_base& conn, const std::string& order_id) {
  pqxx::read_transaction tx{conn};
  auto found = select_orders(tx, "o.id = " + tx.quote(order_id) + "::uuid");
  if (found.empty())
    return std::nullopt;
  return std::move(found.front().value);
}

std::vector<std::optional<order>> load_orders(pqxx::connection_base& conn,
                                              const std::vector<std::string>& order_ids) {
  pqxx::read_transaction tx{conn};
  std::unordered_map<std::string, order> found;
  std::vector<std::string> unique_ids = order_ids; // one row per order, also when asked twice
  std::sort(unique_ids.begin(), unique_ids.end());
  unique_ids.erase(std::unique(unique_ids.begin(), unique_ids.end()), unique_ids.end());
  for (auto& s : select_orders(tx, "true", "o.id", "", by_ids(tx, unique_ids, "orders", "o", "id")))
    found.emplace(s.value.id, std::move(s.value));
  std::vector<std::optional<order>> result;
  result.reserve(order_ids.size());
  for (const auto& id : order_ids) {
    auto i = found.find(id);
    result.push_back(i == found.end() ? std::nullopt : std::optional<order>{i->second});
  }
  return result;
}

std::vector<held_event> load_early_events(pqxx::connection_base& conn,
                                          const std::string& order_id) {
  pqxx::read_transaction tx{conn};
  std::vector<held_event> result;
  for (const auto& r : tx.exec_params("SELECT event_id::text, body FROM early_events "
                                      "WHERE order_id = $1::uuid ORDER BY received_at, event_id",
                                      order_id))
    result.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  return result;
}

std::vector<std::string> orders_with_early_events(pqxx::connection_base& conn,
                                                  const std::vector<std::string>& order_ids) {
  pqxx::read_transaction tx{conn};
  std::vector<std::string> result;
  for (const auto& r : tx.exec("SELECT DISTINCT e.order_id::text FROM "
                               + by_ids(tx, order_ids, "early_events", "e", "order_id")))
    result.push_back(r[0].as<std::string>());
  return result;
}

std::vector<order> list_orders(pqxx::connection_base& conn, const list_query& query) {
  pqxx::read_transaction tx{conn};
  auto found = select_orders(tx, "o.user_id = " + tx.quote(query.user_id) + "::uuid",
                             "o.created_at DESC, o.id DESC",
                             "LIMIT " + std::to_string(query.limit) + " OFFSET "
                               + std::to_string(query.offset));
  std::vector<order> result;
  result.reserve(found.size());
  for (auto& s : found)
    result.push_back(std::move(s.value));
  return result;
}

bool is_deadlock(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const pqxx::deadlock_detected&) {
    return true;
  } catch (...) {
    return false;
  }
}

} // namespace flashsale::persistence
