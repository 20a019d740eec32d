#include "actors/order/db_actors.hpp"

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

/// Creates for the same keys in two writers' batches can still deadlock in rare
/// interleavings (inserts are ordered, the conflict checks of replays are not): the
/// loser is retried a few times before its requests fail.
constexpr int max_deadlock_retries = 3;

/// After a failed connect, requests fail at once for this long instead of each waiting
/// for its own connect attempt (pg_session).
constexpr std::chrono::milliseconds retry_pause{500};

template <class Command, class Outcome>
struct pending_batch {
  std::vector<Command> commands;
  std::vector<caf::typed_response_promise<Outcome>> promises;

  bool empty() const { return commands.empty(); }

  void fail_all(std::vector<Outcome>& outcomes, std::exception_ptr error) const {
    Outcome failed;
    failed.error = persistence::to_api_error(error);
    outcomes.assign(commands.size(), failed);
  }

  /// Runs `commit` over the whole batch and answers every promise with its outcome,
  /// or every promise with the same failure when the transaction failed.
  template <class Commit>
  void flush(persistence::pg_session& db, Commit commit, histogram* sizes,
             histogram* seconds) {
    auto started = std::chrono::steady_clock::now();
    std::vector<const Command*> ptrs;
    ptrs.reserve(commands.size());
    for (const auto& c : commands)
      ptrs.push_back(&c);
    std::vector<Outcome> outcomes;
    for (int attempt = 1; outcomes.empty(); ++attempt) {
      try {
        outcomes = db.with([&](auto& conn) { return commit(conn, ptrs); });
      } catch (...) {
        if (persistence::is_deadlock(std::current_exception()) && attempt < max_deadlock_retries)
          continue; // the other transaction went through: ours will now
        fail_all(outcomes, std::current_exception());
      }
    }
    if (sizes)
      sizes->observe(static_cast<double>(commands.size()));
    if (seconds)
      seconds->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < promises.size(); ++i)
      promises[i].deliver(std::move(outcomes[i]));
    commands.clear();
    promises.clear();
  }
};

struct writer_state {
  std::unique_ptr<persistence::pg_session> db;
  pending_batch<create_command, create_outcome> creates;
  pending_batch<write_command, write_outcome> writes;
  bool flush_queued = false;
  std::size_t max_batch = 1;
  histogram* create_sizes = nullptr;
  histogram* write_sizes = nullptr;
  histogram* commit_seconds = nullptr;
  static inline const char* name = "db_writer";
};

using writer_actor = caf::stateful_actor<writer_state>;

/// Answers, uncommitted, the creates whose deadline has passed: their clients have had
/// a 503 and must find no order; a retry with the same key then creates it once.
void drop_expired(pending_batch<create_command, create_outcome>& batch) {
  auto now = unix_now_ms();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch.commands.size(); ++i) {
    auto deadline = batch.commands[i].commit_by_ms;
    if (deadline != 0 && deadline <= now) {
      create_outcome late;
      late.error = {error_code::unavailable, "the request's deadline passed before its commit"};
      batch.promises[i].deliver(std::move(late));
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

void flush_all(writer_actor* self) {
  auto& st = self->state;
  if (!st.creates.empty())
    drop_expired(st.creates);
  if (!st.creates.empty())
    st.creates.flush(*st.db, persistence::create_orders, st.create_sizes, st.commit_seconds);
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
  if (metrics) {
    const char* help = "commands committed together in one transaction";
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
