#include "persistence/order_repository.hpp"

#include <pqxx/pqxx>

#include <map>
#include <unordered_map>

namespace flashsale::persistence {

namespace {

constexpr const char* order_columns =
  "o.id::text, o.user_id::text, o.status, o.currency, o.total_amount, "
  "extract(epoch from o.created_at)::bigint, extract(epoch from o.updated_at)::bigint, "
  "extract(epoch from o.expired_at)::bigint, coalesce(o.reason, ''), "
  "o.request_hash, o.idempotency_key";

struct stored_order {
  order value;
  std::string request_hash;
  std::string idempotency_key;
};

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
  return s;
}

std::string uuid_array(pqxx::transaction_base& tx, const std::vector<std::string>& ids) {
  std::string list;
  for (const auto& id : ids)
    list += (list.empty() ? "" : ",") + id; // ids are validated UUIDs
  return tx.quote("{" + list + "}") + "::uuid[]";
}

/// Orders matching `where` (an SQL condition on alias o), with their items.
std::vector<stored_order> select_orders(pqxx::transaction_base& tx, const std::string& where,
                                        const std::string& tail = "") {
  auto rows = tx.exec(std::string{"SELECT "} + order_columns + " FROM orders o WHERE " + where
                      + " " + tail);
  std::vector<stored_order> result;
  std::vector<std::string> ids;
  std::unordered_map<std::string, std::size_t> index;
  for (const auto& r : rows) {
    result.push_back(read_order_row(r));
    ids.push_back(result.back().value.id);
    index.emplace(ids.back(), result.size() - 1);
  }
  if (ids.empty())
    return result;
  auto items = tx.exec("SELECT order_id::text, sku_id, quantity, price FROM order_items "
                       "WHERE order_id = ANY("
                       + uuid_array(tx, ids) + ") ORDER BY order_id, line_no");
  for (const auto& r : items) {
    auto& o = result[index.at(r[0].as<std::string>())].value;
    o.items.push_back({r[1].as<std::string>(), r[2].as<std::int32_t>(), r[3].as<std::int64_t>()});
  }
  return result;
}

std::string timestamp_sql(std::int64_t unix_seconds) {
  return "to_timestamp(" + std::to_string(unix_seconds) + ")";
}

std::string optional_timestamp_sql(const std::optional<std::int64_t>& unix_seconds) {
  return unix_seconds ? timestamp_sql(*unix_seconds) : std::string{"NULL::timestamptz"};
}

std::string timestamp_ms_sql(std::int64_t unix_ms) {
  return "to_timestamp(" + std::to_string(unix_ms) + " / 1000.0)";
}

std::string quoted_status(pqxx::transaction_base& tx, order_status s) {
  return tx.quote(std::string{to_string(s)});
}

/// One statement inserts the orders that do not collide on (user, key), and the items
/// and events of exactly those orders: one round trip for the whole batch.
std::string insert_batch_sql(pqxx::transaction_base& tx,
                             const std::vector<const create_command*>& cmds) {
  std::string orders, items, events;
  for (const auto* c : cmds) {
    const order& o = c->fresh;
    const std::string id = tx.quote(o.id) + "::uuid";
    orders += (orders.empty() ? "" : ",") + std::string{"("} + id + ","
              + tx.quote(o.user_id) + "::uuid," + tx.quote(c->idempotency_key) + ","
              + tx.quote(c->fingerprint) + "," + quoted_status(tx, o.status) + ","
              + tx.quote(o.currency) + "," + std::to_string(o.total_amount) + ","
              + timestamp_sql(o.created_at) + "," + timestamp_sql(o.updated_at) + ","
              + optional_timestamp_sql(o.expired_at) + ")";
    for (std::size_t i = 0; i < o.items.size(); ++i) {
      const auto& it = o.items[i];
      items += (items.empty() ? "" : ",") + std::string{"("} + id + "," + std::to_string(i)
               + "," + tx.quote(it.sku_id) + "," + std::to_string(it.quantity) + ","
               + std::to_string(it.price) + ")";
    }
    const auto& e = c->created_event;
    events += (events.empty() ? "" : ",") + std::string{"("} + tx.quote(e.event_id)
              + "::uuid," + id + "," + tx.quote(e.event_type) + "," + tx.quote(e.envelope)
              + ")";
  }
  return "WITH new_orders AS (INSERT INTO orders (id, user_id, idempotency_key, "
         "request_hash, status, currency, total_amount, created_at, updated_at, expired_at) "
         "VALUES "
         + orders
         + " ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id), "
           "new_items AS (INSERT INTO order_items (order_id, line_no, sku_id, quantity, price) "
           "SELECT v.* FROM (VALUES "
         + items
         + ") AS v(order_id, line_no, sku_id, quantity, price) "
           "JOIN new_orders n ON n.id = v.order_id), "
           "new_events AS (INSERT INTO outbox_events (event_id, aggregate_id, event_type, "
           "payload) SELECT e.* FROM (VALUES "
         + events
         + ") AS e(event_id, aggregate_id, event_type, payload) "
           "JOIN new_orders n ON n.id = e.aggregate_id) "
           "SELECT id::text FROM new_orders";
}

/// Resolves the commands whose (user, key) was taken: replay or key reuse.
void resolve_collisions(pqxx::transaction_base& tx,
                        const std::vector<const create_command*>& cmds,
                        std::vector<create_outcome>& out) {
  std::string pairs;
  for (std::size_t i = 0; i < cmds.size(); ++i)
    if (out[i].status != create_status::created)
      pairs += (pairs.empty() ? "" : ",") + std::string{"("} + tx.quote(cmds[i]->fresh.user_id)
               + "::uuid," + tx.quote(cmds[i]->idempotency_key) + ")";
  if (pairs.empty())
    return;
  std::map<std::pair<std::string, std::string>, stored_order> existing;
  for (auto& s : select_orders(tx, "(o.user_id, o.idempotency_key) IN (" + pairs + ")"))
    existing.emplace(std::make_pair(s.value.user_id, s.idempotency_key), std::move(s));
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (out[i].status == create_status::created)
      continue;
    auto found = existing.find({cmds[i]->fresh.user_id, cmds[i]->idempotency_key});
    if (found == existing.end())
      throw std::logic_error("idempotency conflict without a stored order");
    bool same = found->second.request_hash == cmds[i]->fingerprint;
    out[i].status = same ? create_status::replayed : create_status::key_reused;
    out[i].stored = found->second.value;
  }
}

void notify_outbox(pqxx::transaction_base& tx) {
  tx.exec(std::string{"SELECT pg_notify('"} + outbox_channel + "', '')");
}

} // namespace

std::vector<create_outcome> create_orders(pqxx::connection_base& conn,
                                          const std::vector<const create_command*>& cmds) {
  std::vector<create_outcome> out(cmds.size());
  if (cmds.empty())
    return out;
  pqxx::work tx{conn};
  std::unordered_map<std::string, bool> inserted;
  for (const auto& r : tx.exec(insert_batch_sql(tx, cmds)))
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
  if (!inserted.empty())
    notify_outbox(tx);
  tx.commit();
  return out;
}

namespace {

write_outcome write_one(pqxx::dbtransaction& tx, const write_command& c) {
  pqxx::subtransaction sub{tx, "w"};
  const std::string id = sub.quote(c.order_id) + "::uuid";
  if (!c.inbox_event_id.empty()) {
    auto r = sub.exec("INSERT INTO processed_events (event_id, order_id, event_type) VALUES ("
                      + sub.quote(c.inbox_event_id) + "::uuid," + id + ","
                      + sub.quote(c.inbox_event_type) + ") ON CONFLICT DO NOTHING RETURNING 1");
    if (r.empty()) {
      sub.abort();
      return {write_status::duplicate, {}};
    }
  }
  std::string guard = " WHERE id = " + id + " AND status = " + quoted_status(sub, c.expected);
  pqxx::result r;
  if (c.next != c.expected) {
    r = sub.exec("UPDATE orders SET status = " + quoted_status(sub, c.next)
                 + ", reason = " + (c.reason.empty() ? "NULL" : sub.quote(c.reason))
                 + ", updated_at = " + timestamp_ms_sql(c.now_ms)
                 + ", expired_at = " + optional_timestamp_sql(c.deadline) + guard
                 + " RETURNING 1");
  } else {
    r = sub.exec("SELECT 1 FROM orders" + guard + " FOR UPDATE"); // serialises the order's outbox rows
  }
  if (r.empty()) {
    auto exists = sub.exec("SELECT 1 FROM orders WHERE id = " + id);
    sub.abort();
    return {exists.empty() ? write_status::not_found : write_status::stale, {}};
  }
  if (c.event) {
    const auto& e = *c.event;
    sub.exec("INSERT INTO outbox_events (event_id, aggregate_id, event_type, payload) VALUES ("
             + sub.quote(e.event_id) + "::uuid," + id + "," + sub.quote(e.event_type) + ","
             + sub.quote(e.envelope) + ")");
  }
  sub.commit();
  return {write_status::applied, {}};
}

} // namespace

std::vector<write_outcome> write_orders(pqxx::connection_base& conn,
                                        const std::vector<const write_command*>& cmds) {
  std::vector<write_outcome> out;
  out.reserve(cmds.size());
  pqxx::work tx{conn};
  bool any_event = false;
  for (const auto* c : cmds) {
    out.push_back(write_one(tx, *c));
    any_event |= out.back().status == write_status::applied && c->event.has_value();
  }
  if (any_event)
    notify_outbox(tx);
  tx.commit();
  return out;
}

std::optional<order> load_order(pqxx::connection_base& conn, const std::string& order_id) {
  pqxx::read_transaction tx{conn};
  auto found = select_orders(tx, "o.id = " + tx.quote(order_id) + "::uuid");
  if (found.empty())
    return std::nullopt;
  return std::move(found.front().value);
}

std::vector<order> list_orders(pqxx::connection_base& conn, const list_query& query) {
  pqxx::read_transaction tx{conn};
  auto found = select_orders(tx, "o.user_id = " + tx.quote(query.user_id) + "::uuid",
                             "ORDER BY o.created_at DESC, o.id DESC LIMIT "
                               + std::to_string(query.limit) + " OFFSET "
                               + std::to_string(query.offset));
  std::vector<order> result;
  result.reserve(found.size());
  for (auto& s : found)
    result.push_back(std::move(s.value));
  return result;
}

} // namespace flashsale::persistence
