#include "actors/outbox/outbox_actors.hpp"

#include "actors/log.hpp"
#include "persistence/outbox_repository.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace flashsale {

namespace {

using janitor_tick_atom = caf::atom_constant<caf::atom("fs_jtick")>;

using steady = std::chrono::steady_clock;

struct janitor_state {
  relay_settings cfg;
  std::shared_ptr<outbox_gauges> gauges;
  std::unique_ptr<persistence::pg_session> db;
  bool failing = false; // the last step failed on the database
  static inline const char* name = "outbox_janitor";
};

using janitor_actor = caf::stateful_actor<janitor_state>;

/// Deletes expired SENT rows in chunks, for at most half a stats interval.
template <class Connection>
std::size_t sweep_sent(janitor_state& st, Connection& conn) {
  auto until = steady::now() + st.cfg.stats_interval / 2;
  std::size_t total = 0;
  std::size_t n = 0;
  do {
    n = persistence::delete_sent_outbox_rows(conn, st.cfg.retention, st.cfg.janitor_chunk);
    total += n;
  } while (n == st.cfg.janitor_chunk && steady::now() < until);
  return total;
}

void janitor_step(janitor_state& st) {
  try {
    st.db->with([&](auto& conn) {
      auto s = persistence::read_outbox_stats(conn);
      st.gauges->pending = static_cast<double>(s.pending);
      st.gauges->waiting = static_cast<double>(s.waiting);
      st.gauges->oldest_pending_age_s = s.oldest_pending_age_s;
      st.gauges->dead = static_cast<double>(s.dead);
      if (auto n = sweep_sent(st, conn); n > 0)
        log::debug("outbox janitor deleted sent rows", {{"rows", std::to_string(n)}});
    });
    if (st.failing)
      log::info("outbox janitor: database reachable again");
    st.failing = false;
  } catch (const std::exception& e) {
    log::write(st.failing ? log::level::debug : log::level::warn, "outbox janitor: database error",
               {{"error", e.what()}});
    st.failing = true;
  }
}

caf::behavior outbox_janitor(janitor_actor* self, relay_settings cfg,
                             std::shared_ptr<outbox_gauges> gauges) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.gauges = std::move(gauges);
  st.db = std::make_unique<persistence::pg_session>(
    st.cfg.database_url, std::chrono::milliseconds{500}, st.cfg.db_limits);
  self->send(self, janitor_tick_atom::value);
  return {
    [self](janitor_tick_atom) {
      janitor_step(self->state);
      self->delayed_send(self, self->state.cfg.stats_interval, janitor_tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_outbox_janitor(caf::actor_system& sys, const relay_settings& settings,
                                std::shared_ptr<outbox_gauges> gauges) {
  return sys.spawn<caf::detached>(outbox_janitor, settings, std::move(gauges));
}

} // namespace flashsale
