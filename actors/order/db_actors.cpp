#include "actors/order/db_actors.hpp"

#include "actors/order/pending_batch.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "messages/clock.hpp"
#include "persistence/order_repository.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_execution_unit.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <unordered_set>
#include <utility>

namespace flashsale {

namespace {

/// After a failed connect, requests fail at once for this long instead of each waiting
/// for its own connect attempt (pg_session).
constexpr std::chrono::milliseconds retry_pause{500};

struct writer_state {
  std::unique_ptr<persistence::pg_session> db;
  pending_batch<create_command, create_outcome> creates;
  pending_batch<write_command, write_outcome> writes;
  bool flush_queued = false;
  std::size_t max_batch = 1;
  metrics_registry* metrics = nullptr;
  histogram* create_sizes = nullptr;
  histogram* write_sizes = nullptr;
  histogram* commit_seconds = nullptr;
  static inline const char* name = "db_writer";
};

using writer_actor = caf::stateful_actor<writer_state>;

/// Why a create must not commit now (CONTRACT §3 "Overload"), or null: its client is
/// gone, or its deadline passed (the client is answered 503 and must find no order).
const char* withdrawal_reason(const create_command& c, std::int64_t now_ms) {
  if (c.client_gone && c.client_gone->load())
    return "client_gone";
  if (c.commit_by_ms != 0 && c.commit_by_ms <= now_ms)
    return "deadline";
  return nullptr;
}

counter& withdrawn_counter(metrics_registry& m, const char* reason, const char* at) {
  return m.get_counter("db_creates_withdrawn_total",
                       "creates answered 503 uncommitted: their deadline passed or their "
                       "client went away before their transaction began (queue) or before "
                       "its COMMIT (commit, rolled back)",
                       {{"reason", reason}, {"at", at}});
}

counter& in_doubt_counter(metrics_registry& m, const char* outcome) {
  return m.get_counter("db_creates_in_doubt_total",
                       "creates whose connection was lost during COMMIT, by what the lookup "
                       "afterwards found: committed (201), not_committed (503), unknown (500)",
                       {{"outcome", outcome}});
}

/// Answers, uncommitted, the creates that must no longer commit; a retry with the same
/// key then creates the order once. `at`: where they were stopped, for the count.
void withdraw(writer_state& st, const char* at) {
  auto& batch = st.creates;
  auto now = unix_now_ms();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch.commands.size(); ++i) {
    if (const char* reason = withdrawal_reason(batch.commands[i], now)) {
      create_outcome late;
      late.error = {error_code::unavailable, "the database is too slow right now: nothing was "
                                             "committed, retry later"};
      batch.promises[i].deliver(std::move(late));
      if (st.metrics)
        withdrawn_counter(*st.metrics, reason, at).inc();
      continue;
    }
    if (kept != i) {
      batch.commands[kept] = std::move(batch.commands[i]);
      batch.promises[kept] = std::move(batch.promises[i]);
    }
    ++kept;
  }
  batch.commands.resize(kept);
  batch.promises.resize(kept);
}

/// The outcomes of a batch whose COMMIT was cut, found out on a fresh connection; when
/// even that fails, nobody can say: 500, and a retry with the same key tells.
std::vector<create_outcome> look_up_in_doubt(writer_state& st, int backend_pid,
                                             const std::vector<const create_command*>& cmds) {
  std::vector<create_outcome> out;
  const char* unknown = nullptr;
  try {
    out = st.db->with(
      [&](auto& conn) { return persistence::resolve_in_doubt(conn, backend_pid, cmds); });
  } catch (...) {
    unknown = "unknown";
    create_outcome failed;
    failed.error = {error_code::internal_error, "the outcome of this create is unknown: retry "
                                                "with the same X-Idempotency-Key"};
    out.assign(cmds.size(), failed);
  }
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const char* outcome = unknown ? unknown
                          : out[i].status == create_status::failed ? "not_committed"
                                                                   : "committed";
    if (st.metrics)
      in_doubt_counter(*st.metrics, outcome).inc();
    log::warn("create commit in doubt, resolved",
              {{"order_id", cmds[i]->fresh.id}, {"outcome", outcome}});
  }
  return out;
}

/// Commits the pending creates. Whether each may still commit is asked before the batch
/// begins, before every retry and right before COMMIT: when one may not, the transaction
/// rolls back and the others go again without it. A lost COMMIT is looked up, never
/// guessed, so a 503 always means nothing was committed (CONTRACT §3 "Overload").
void flush_creates(writer_state& st) {
  auto& batch = st.creates;
  auto started = std::chrono::steady_clock::now();
  auto may_commit = [&batch] {
    auto now = unix_now_ms();
    for (const auto& c : batch.commands)
      if (withdrawal_reason(c, now))
        return false;
    return true;
  };
  const char* at = "queue";
  std::vector<create_outcome> outcomes;
  for (int attempt = 1; outcomes.empty();) {
    withdraw(st, at);
    if (batch.empty())
      return;
    auto cmds = batch.pointers();
    try {
      outcomes = st.db->with(
        [&](auto& conn) { return persistence::create_orders(conn, cmds, may_commit); });
    } catch (const persistence::commit_withdrawn&) {
      at = "commit"; // rolled back: the others go again without the withdrawn
    } catch (const persistence::commit_in_doubt& e) {
      outcomes = look_up_in_doubt(st, e.backend_pid, cmds);
    } catch (...) {
      at = "commit";
      if (persistence::is_deadlock(std::current_exception()) && ++attempt <= max_deadlock_retries)
        continue; // the other transaction went through: ours will now
      batch.fail_all(outcomes, std::current_exception());
    }
  }
  batch.deliver(outcomes, started, st.create_sizes, st.commit_seconds);
}

void flush_all(writer_actor* self) {
  auto& st = self->state;
  if (!st.creates.empty())
    flush_creates(st);
  if (!st.writes.empty())
    st.writes.flush(*st.db, persistence::write_orders, st.write_sizes, st.commit_seconds);
}

/// The flush message goes to the back of the mailbox: everything that arrived while
/// the previous transaction committed joins this batch, with no artificial delay.
template <class Batch>
void enqueue_and_schedule(writer_actor* self, Batch& batch) {
  auto& st = self->state;
  if (batch.commands.size() >= st.max_batch) {
    flush_all(self);
  } else if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
}

std::vector<double> batch_buckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
}

caf::behavior db_writer(writer_actor* self, std::string url, std::size_t max_batch,
                        metrics_registry* metrics, persistence::pg_limits limits) {
  auto& st = self->state;
  st.db = std::make_unique<persistence::pg_session>(std::move(url), retry_pause, limits);
  st.max_batch = max_batch;
  st.metrics = metrics;
  if (metrics) {
    for (const char* reason : {"deadline", "client_gone"})
      for (const char* at : {"queue", "commit"})
        withdrawn_counter(*metrics, reason, at);
    for (const char* outcome : {"committed", "not_committed", "unknown"})
      in_doubt_counter(*metrics, outcome);
    const char* help = "commands committed together in one transaction";
    const char* fenced_help = "Order writes the database refused because this node no longer "
                              "owns the order's shard (a stale epoch)";
    st.creates.fenced =
      &metrics->get_counter("cluster_fenced_writes_total", fenced_help, {{"kind", "create"}});
    st.writes.fenced =
      &metrics->get_counter("cluster_fenced_writes_total", fenced_help, {{"kind", "write"}});
    st.create_sizes = &metrics->get_histogram("db_commit_batch_size", help,
                                              {{"kind", "create"}}, batch_buckets());
    st.write_sizes = &metrics->get_histogram("db_commit_batch_size", help,
                                             {{"kind", "write"}}, batch_buckets());
    st.commit_seconds = &metrics->get_histogram("db_commit_seconds",
                                                "time to commit one batch");
  }
  return {
    [=](create_atom, create_command& cmd) -> caf::result<create_outcome> {
      auto& batch = self->state.creates;
      auto rp = self->make_response_promise<create_outcome>();
      batch.commands.push_back(std::move(cmd));
      batch.promises.push_back(rp);
      enqueue_and_schedule(self, batch);
      return rp;
    },
    [=](write_atom, write_command& cmd) -> caf::result<write_outcome> {
      auto& batch = self->state.writes;
      auto rp = self->make_response_promise<write_outcome>();
      batch.commands.push_back(std::move(cmd));
      batch.promises.push_back(rp);
      enqueue_and_schedule(self, batch);
      return rp;
    },
    [=](flush_atom) {
      self->state.flush_queued = false;
      flush_all(self);
    },
  };
}

struct reader_state {
  std::unique_ptr<persistence::pg_session> db;
  std::vector<std::string> load_ids;
  std::vector<caf::typed_response_promise<load_reply>> load_promises;
  static inline const char* name = "db_reader";
};

using reader_actor = caf::stateful_actor<reader_state>;

/// Answers every queued load from one query (the same end-of-mailbox batching as the
/// writers: a stampede of new order actors costs one round trip, not one each).
void flush_loads(reader_actor* self) {
  auto& st = self->state;
  auto ids = std::move(st.load_ids);
  auto promises = std::move(st.load_promises);
  st.load_ids.clear();
  st.load_promises.clear();
  std::vector<std::optional<order>> found;
  std::unordered_set<std::string> with_early;
  load_reply failed;
  try {
    st.db->with([&](auto& conn) {
      found = persistence::load_orders(conn, ids);
      for (auto& id : persistence::orders_with_early_events(conn, ids))
        with_early.insert(std::move(id));
    });
  } catch (...) {
    failed.failed = true;
    failed.error = persistence::to_api_error(std::current_exception());
  }
  for (std::size_t i = 0; i < promises.size(); ++i) {
    if (failed.failed) {
      promises[i].deliver(failed);
      continue;
    }
    load_reply reply;
    reply.found = found[i].has_value();
    if (found[i])
      reply.value = std::move(*found[i]);
    reply.has_early = reply.found && with_early.count(ids[i]) > 0;
    promises[i].deliver(std::move(reply));
  }
}

caf::behavior db_reader(reader_actor* self, std::string url, persistence::pg_limits limits) {
  self->state.db = std::make_unique<persistence::pg_session>(std::move(url), retry_pause, limits);
  return {
    [=](load_atom, const std::string& id) -> caf::result<load_reply> {
      auto& st = self->state;
      auto rp = self->make_response_promise<load_reply>();
      if (st.load_ids.empty())
        self->send(self, flush_atom::value);
      st.load_ids.push_back(id);
      st.load_promises.push_back(rp);
      return rp;
    },
    [=](flush_atom) { flush_loads(self); },
    [=](early_atom, const std::string& id) {
      early_reply reply;
      try {
        reply.events = self->state.db->with([&](pqxx::connection_base& conn) {
          return persistence::load_early_events(conn, id);
        });
      } catch (...) {
        // The order actor retries at its next transition; the cause is said here.
        reply.failed = true;
        log::warn("held saga events not read",
                  {{"order_id", id},
                   {"error", persistence::to_api_error(std::current_exception()).message}});
      }
      return reply;
    },
    [=](list_atom, const list_query& query) {
      list_reply reply;
      try {
        reply.orders = self->state.db->with(
          [&](auto& conn) { return persistence::list_orders(conn, query); });
        reply.ok = true;
      } catch (...) {
        reply.error = persistence::to_api_error(std::current_exception());
      }
      return reply;
    },
  };
}

template <class Factory>
caf::actor make_pool(caf::actor_system& sys, std::size_t count, Factory factory) {
  caf::scoped_execution_unit context{&sys};
  return caf::actor_pool::make(&context, count, factory, caf::actor_pool::round_robin());
}

} // namespace

caf::actor spawn_db_writers(caf::actor_system& sys, const std::string& database_url,
                            std::size_t count, std::size_t max_batch,
                            metrics_registry* metrics, persistence::pg_limits limits) {
  return make_pool(sys, count, [&sys, database_url, max_batch, metrics, limits] {
    return sys.spawn<caf::detached>(db_writer, database_url, max_batch, metrics, limits);
  });
}

caf::actor spawn_db_readers(caf::actor_system& sys, const std::string& database_url,
                            std::size_t count, persistence::pg_limits limits) {
  return make_pool(sys, count, [&sys, database_url, limits] {
    return sys.spawn<caf::detached>(db_reader, database_url, limits);
  });
}

} // namespace flashsale
