#include "actors/order/expiry_sweeper.hpp"

#include "actors/cluster/shard_ownership.hpp"

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "metrics/metrics.hpp"
#include "persistence/expiry_repository.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <unordered_set>

namespace flashsale {

namespace {

using sweep_atom = caf::atom_constant<caf::atom("fs_sweep")>;

struct sweeper_metrics {
  counter* sweeps = nullptr;
  counter* failed_sweeps = nullptr;
  std::map<event_status, counter*> outcomes;
  std::shared_ptr<std::atomic<double>> in_flight = std::make_shared<std::atomic<double>>(0);
};

sweeper_metrics register_metrics(metrics_registry& reg) {
  sweeper_metrics m;
  m.sweeps = &reg.get_counter("expiry_sweeps_total", "Expiry sweeps run");
  m.failed_sweeps =
    &reg.get_counter("expiry_sweeps_failed_total", "Expiry sweeps the database did not answer");
  const std::pair<event_status, const char*> outcomes[] = {
    {event_status::applied, "applied"},     {event_status::duplicate, "duplicate"},
    {event_status::ignored, "ignored"},     {event_status::payment_rejected, "payment_rejected"},
    {event_status::not_found, "not_found"}, {event_status::failed, "failed"},
    {event_status::rejected, "rejected"},
  };
  for (const auto& [status, label] : outcomes)
    m.outcomes[status] =
      &reg.get_counter("expiry_requests_total", "Expire requests the sweeper sent, by outcome",
                       {{"outcome", label}});
  auto g = m.in_flight;
  reg.add_gauge("expiry_in_flight", "Expire requests awaiting an answer",
                [g] { return g->load(); });
  return m;
}

struct sweeper_state {
  expiry_settings cfg;
  order_api registry;
  std::shared_ptr<const shard_ownership> shards;
  sweeper_metrics metrics;
  std::unique_ptr<persistence::pg_session> db;
  std::unordered_set<std::string> in_flight;
  bool failing = false; // the last sweep failed (logged once per streak)
  static inline const char* name = "expiry_sweeper";
};

using sweeper_actor = caf::stateful_actor<sweeper_state>;

void finish(sweeper_actor* self, const std::string& id, event_status status) {
  auto& st = self->state;
  st.in_flight.erase(id);
  st.metrics.in_flight->store(static_cast<double>(st.in_flight.size()));
  st.metrics.outcomes[status]->inc();
  if (status == event_status::applied)
    log::info("order deadline applied by the sweeper", {{"order_id", id}});
}

void send_expire(sweeper_actor* self, const std::string& id) {
  auto& st = self->state;
  st.in_flight.insert(id);
  self->request(st.registry, st.cfg.request_timeout, expire_atom::value, id)
    .then([self, id](event_reply& r) { finish(self, id, r.status); },
          [self, id](caf::error&) { finish(self, id, event_status::failed); });
}

/// Returns whether the sweep filled its batch (more may be due right away).
bool sweep(sweeper_actor* self) {
  auto& st = self->state;
  if (st.in_flight.size() >= st.cfg.max_in_flight)
    return false;
  auto limit = std::min(st.cfg.batch, st.cfg.max_in_flight - st.in_flight.size());
  std::optional<std::vector<int>> owned;
  if (st.shards) {
    owned = st.shards->owned();
    if (owned->empty())
      return false; // nothing of ours to sweep yet
  }
  persistence::due_batch due;
  try {
    due = st.db->with([&](auto& conn) {
      return persistence::due_orders(conn, limit, st.cfg.claim, owned ? &*owned : nullptr);
    });
  } catch (const std::exception& e) {
    st.metrics.failed_sweeps->inc();
    if (!st.failing)
      log::warn("expiry sweep failed, retrying", {{"error", e.what()}});
    st.failing = true;
    return false;
  }
  st.failing = false;
  st.metrics.sweeps->inc();
  for (const auto& id : due.ids)
    if (st.in_flight.count(id) == 0)
      send_expire(self, id);
  st.metrics.in_flight->store(static_cast<double>(st.in_flight.size()));
  return due.rows >= limit;
}

caf::behavior expiry_sweeper(sweeper_actor* self, expiry_settings cfg, order_api registry,
                             std::shared_ptr<const shard_ownership> shards,
                             sweeper_metrics metrics) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.registry = std::move(registry);
  st.shards = std::move(shards);
  st.metrics = std::move(metrics);
  st.db = std::make_unique<persistence::pg_session>(st.cfg.database_url);
  self->send(self, sweep_atom::value);
  return {
    [self](sweep_atom) {
      auto full = sweep(self);
      const auto& cfg = self->state.cfg;
      self->delayed_send(self, full ? cfg.busy_interval : cfg.interval, sweep_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_expiry_sweeper(caf::actor_system& sys, const expiry_settings& settings,
                                order_api registry, std::shared_ptr<const shard_ownership> shards,
                                metrics_registry& metrics) {
  return sys.spawn<caf::detached>(expiry_sweeper, settings, std::move(registry), std::move(shards),
                                  register_metrics(metrics));
}


} // namespace flashsale
