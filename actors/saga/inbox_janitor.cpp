#include "actors/saga/inbox_janitor.hpp"

#include "actors/log.hpp"
#include "metrics/metrics.hpp"
#include "persistence/inbox_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <memory>

namespace flashsale {

namespace {

using inbox_tick_atom = caf::atom_constant<caf::atom("fs_itick")>;

using steady = std::chrono::steady_clock;

struct inbox_janitor_state {
  inbox_janitor_settings cfg;
  counter* deleted = nullptr;
  counter* failures = nullptr;
  std::unique_ptr<persistence::pg_session> db;
  bool failing = false; // the last round failed on the database
  static inline const char* name = "inbox_janitor";
};

using inbox_janitor_actor = caf::stateful_actor<inbox_janitor_state>;

/// Deletes expired rows batch by batch for at most half an interval: short transactions
/// that never hold many locks, and a backlog (after a long outage) cleared over rounds.
std::size_t sweep_inbox(inbox_janitor_state& st, pqxx::connection_base& conn) {
  auto until = steady::now() + st.cfg.interval / 2;
  std::size_t total = 0;
  std::size_t n = 0;
  do {
    n = persistence::delete_expired_inbox_rows(conn, st.cfg.retention, st.cfg.batch);
    total += n;
  } while (n == st.cfg.batch && steady::now() < until);
  return total;
}

void inbox_janitor_step(inbox_janitor_state& st) {
  try {
    auto n = st.db->with([&](auto& conn) { return sweep_inbox(st, conn); });
    st.deleted->inc(n);
    if (n > 0)
      log::debug("inbox janitor deleted expired rows", {{"rows", std::to_string(n)}});
    if (st.failing)
      log::info("inbox janitor: database reachable again");
    st.failing = false;
  } catch (const std::exception& e) {
    st.failures->inc();
    log::write(st.failing ? log::level::debug : log::level::warn, "inbox janitor: database error",
               {{"error", e.what()}});
    st.failing = true;
  }
}

caf::behavior inbox_janitor(inbox_janitor_actor* self, inbox_janitor_settings cfg,
                            counter* deleted, counter* failures) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.deleted = deleted;
  st.failures = failures;
  st.db = std::make_unique<persistence::pg_session>(
    st.cfg.database_url, std::chrono::milliseconds{500}, st.cfg.db_limits);
  self->send(self, inbox_tick_atom::value);
  return {
    [self](inbox_tick_atom) {
      inbox_janitor_step(self->state);
      self->delayed_send(self, self->state.cfg.interval, inbox_tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_inbox_janitor(caf::actor_system& sys, const inbox_janitor_settings& settings,
                               metrics_registry& metrics) {
  auto& deleted = metrics.get_counter("inbox_rows_deleted_total",
                                      "processed_events rows forgotten after INBOX_RETENTION_S");
  auto& failures = metrics.get_counter("inbox_janitor_failures_total",
                                       "inbox janitor rounds that failed on the database");
  return sys.spawn<caf::detached>(inbox_janitor, settings, &deleted, &failures);
}

} // namespace flashsale
