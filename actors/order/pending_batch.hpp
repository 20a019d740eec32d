#pragma once
// One group-commit batch of a writer (db_actors.cpp): the commands that queued up while
// the previous transaction committed, their promises, and how the batch is committed and
// answered (deadlock retries, fenced outcomes counted and logged). Runs in the writer's
// own (detached) thread.

#include "actors/log.hpp"
#include "messages/commands.hpp"
#include "metrics/metrics.hpp"
#include "persistence/order_repository.hpp"
#include "persistence/pg_session.hpp"

#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

namespace flashsale {

/// Creates for the same keys in two writers' batches can still deadlock in rare
/// interleavings (inserts are ordered, the conflict checks of replays are not): the
/// loser is retried a few times before its requests fail.
inline constexpr int max_deadlock_retries = 3;

inline bool fenced_outcome(const create_outcome& o) { return o.status == create_status::fenced; }
inline bool fenced_outcome(const write_outcome& o) { return o.status == write_status::fenced; }
inline const std::string& batch_order_id(const create_command& c) { return c.fresh.id; }
inline const std::string& batch_order_id(const write_command& c) { return c.order_id; }

template <class Command, class Outcome>
struct pending_batch {
  counter* fenced = nullptr; // writes refused: this node no longer owns the shard
  std::vector<Command> commands;
  std::vector<caf::typed_response_promise<Outcome>> promises;

  bool empty() const { return commands.empty(); }

  std::vector<const Command*> pointers() const {
    std::vector<const Command*> ptrs;
    ptrs.reserve(commands.size());
    for (const auto& c : commands)
      ptrs.push_back(&c);
    return ptrs;
  }

  void fail_all(std::vector<Outcome>& outcomes, std::exception_ptr error) const {
    Outcome failed;
    failed.error = persistence::to_api_error(error);
    outcomes.assign(commands.size(), failed);
  }

  /// Answers every promise with its outcome and empties the batch.
  void deliver(std::vector<Outcome>& outcomes, std::chrono::steady_clock::time_point started,
               histogram* sizes, histogram* seconds) {
    if (sizes)
      sizes->observe(static_cast<double>(commands.size()));
    if (seconds)
      seconds->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < promises.size(); ++i) {
      if (fenced_outcome(outcomes[i])) {
        if (fenced)
          fenced->inc();
        // Rare (a node that lost its shards while paused): each one is worth a line.
        log::warn("write refused: another node owns the order's shard now",
                  {{"order_id", batch_order_id(commands[i])},
                   {"shard", std::to_string(commands[i].fence.shard)},
                   {"epoch", std::to_string(commands[i].fence.epoch)}});
      }
      promises[i].deliver(std::move(outcomes[i]));
    }
    commands.clear();
    promises.clear();
  }

  /// Runs `commit` over the whole batch and answers every promise with its outcome,
  /// or every promise with the same failure when the transaction failed.
  template <class Commit>
  void flush(persistence::pg_session& db, Commit commit, histogram* sizes,
             histogram* seconds) {
    auto started = std::chrono::steady_clock::now();
    auto ptrs = pointers();
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
    deliver(outcomes, started, sizes, seconds);
  }
};

} // namespace flashsale
