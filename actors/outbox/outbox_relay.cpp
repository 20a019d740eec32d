#include "actors/outbox/outbox_actors.hpp"

#include "actors/log.hpp"
#include "actors/outbox/relay_batch.hpp"
#include "actors/outbox/relay_log.hpp"
#include "actors/outbox/relay_ports.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_set>

namespace flashsale {

namespace {

using relay_tick_atom = caf::atom_constant<caf::atom("fs_rtick")>;

using steady = std::chrono::steady_clock;

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

enum class relay_phase {
  claiming,   // next step claims a batch
  delivering, // a batch is produced; waiting for its delivery reports
  waiting,    // nothing to do; waiting for NOTIFY or the fallback poll
  alone,      // after a batch refusal: producing rows one by one, each alone
};

struct relay_state {
  relay_settings cfg;
  std::size_t index = 0;
  relay_metrics metrics;
  relay_ports ports;
  std::unique_ptr<outbox_store> db;
  std::unique_ptr<message_sink> producer;
  bool listening = false;
  bool failing = false; // the last step failed on the database
  relay_phase phase = relay_phase::claiming;
  steady::time_point next_poll{};
  bool woken = false;           // a NOTIFY came: claim at claim_at
  steady::time_point claim_at{};
  std::size_t max_orders = 0; // heads per claim, adapted to the run lengths seen

  std::optional<persistence::outbox_claim> claim;
  std::vector<std::string_view> orders; // each claimed row's order id, into claim
  std::vector<row_outcome> outcomes;    // in the pass under way
  std::vector<row_fate> fates;          // the first pass, sorted (actors/outbox/relay_batch.hpp)
  alone_pass alone;                     // the second pass, if any
  bool alone_in_flight = false;         // the row last taken from `alone` awaits its report
  std::uint32_t generation = 0;    // tells this batch's reports from older ones
  steady::time_point started_at{}; // for the per-batch debug line
  steady::time_point claimed_at{};
  steady::time_point produced_at{};

  static inline const char* name = "outbox_relay";
};

using relay_actor = caf::stateful_actor<relay_state>;

void on_delivery(relay_state& st, const kafka::delivery_report& r) {
  auto i = token_row(r.token);
  if (!st.claim || token_generation(r.token) != st.generation || i >= st.outcomes.size())
    return; // a report of an abandoned batch
  st.outcomes[i] = reported_outcome(r.ok, r.permanent, r.error);
  if (r.ok)
    st.metrics.lag->observe(std::max(0.0, unix_now() - st.claim->rows[i].created_at));
}

bool ensure_producer(relay_actor* self) {
  auto& st = self->state;
  if (!st.producer)
    st.producer = st.ports.sink([self](const kafka::delivery_report& r) {
      on_delivery(self->state, r);
    });
  return st.producer != nullptr;
}

/// Produces the batch in seq order. A row refused at once ends its order's run: nothing
/// after it is produced (see persistence/outbox_repository.cpp, point 3).
void produce_batch(relay_state& st) {
  const auto& rows = st.claim->rows;
  st.outcomes.assign(rows.size(), {});
  std::unordered_set<std::string_view> stopped;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (stopped.count(row.aggregate_id))
      continue;
    auto refused = st.producer->produce(st.cfg.topic, row, report_token(st.generation, i));
    if (refused) {
      st.outcomes[i] = refused_outcome(refused->permanent, refused->error);
      stopped.insert(row.aggregate_id);
    } else {
      st.outcomes[i].attempt.state = row_attempt::queued;
    }
  }
}

/// Records the batch as st.fates says (actors/outbox/relay_batch.hpp; point 4 of
/// persistence/outbox_repository.cpp): SENT, retry, DEAD; released otherwise.
void record_batch(relay_state& st) {
  auto record = record_of(st.cfg, st.claim->rows, st.fates, st.outcomes);
  log_batch_record(record, st.claim->rows);
  st.db->complete(*st.claim, record.sent, record.failed);
  st.metrics.published->inc(record.sent.size());
  st.metrics.failed_attempts->inc(record.failed.size());
  st.metrics.dead->inc(record.dead);
}

/// Sorts the first pass; returns true when rows are to be sent again alone (the
/// broker refused their record batch), with the alone pass set up.
bool sort_first_pass(relay_state& st) {
  st.fates = sort_first_pass(st.orders, st.outcomes);
  st.alone.start(st.fates);
  st.alone_in_flight = false;
  if (st.alone.empty())
    return false;
  const auto first = st.alone.first();
  log_refused_batch(st.index, st.alone.size(), st.claim->rows[first], st.outcomes[first].error);
  st.metrics.refused_batches->inc();
  st.alone.clear_outcomes(st.outcomes);
  return true;
}

/// Sorts the alone pass into st.fates (alone_pass::sort_into).
void sort_alone_pass(relay_state& st) {
  st.metrics.delivered_alone->inc(st.alone.sort_into(st.fates, st.orders, st.outcomes));
}

/// Forgets the batch, recorded or not.
void forget_batch(relay_state& st) {
  st.claim.reset();
  st.orders.clear();
  st.outcomes.clear();
  st.fates.clear();
  st.alone = {};
}

/// Drops the connection and the batch after a database error; the rows stay PENDING,
/// leased until the lease runs out, and are sent again later.
void reset_after_error(relay_state& st) {
  if (st.producer && st.producer->outstanding() > 0) {
    st.producer->purge();
    st.producer->flush(std::chrono::milliseconds{0});
  }
  if (st.claim)
    st.metrics.abandoned_batches->inc();
  forget_batch(st);
  st.db->disconnect();
  st.listening = false;
  st.phase = relay_phase::claiming;
}

void start_batch(relay_actor* self) {
  auto& st = self->state;
  // A store call the database does not answer is cut (relay_adapters.cpp) and ends up
  // in relay_step's handler, which drops the connection and retries.
  if (!st.listening) {
    st.db->prepare();
    st.listening = true;
  }
  ++st.generation;
  st.started_at = st.ports.now();
  st.claim = st.db->claim(st.max_orders, st.cfg.batch, claim_lease(st.cfg), st.cfg.claim_runs);
  if (st.claim->rows.empty()) {
    st.claim.reset();
    st.metrics.empty_claims->inc();
    if (st.db->has_due_rows())
      st.metrics.contended_claims->inc();
    st.max_orders = heads_to_claim(st.cfg, 0, 0);
    st.phase = relay_phase::waiting;
    st.next_poll = st.ports.now() + st.cfg.poll_interval;
    return;
  }
  st.metrics.batch_rows->observe(static_cast<double>(st.claim->rows.size()));
  st.max_orders = heads_to_claim(st.cfg, st.claim->rows.size(), st.claim->orders);
  for (const auto& row : st.claim->rows)
    st.orders.push_back(row.aggregate_id);
  st.claimed_at = st.ports.now();
  produce_batch(st);
  st.produced_at = st.ports.now();
  st.phase = relay_phase::delivering;
}

/// A producer stopped by a fatal error (the gapless guarantee makes one of any
/// refusal by a broker) is dropped; ensure_producer makes a new one when needed.
void drop_failed_producer(relay_state& st) {
  if (!st.producer)
    return;
  if (auto fatal = st.producer->fatal_error()) {
    log::error("kafka producer failed; creating a new one",
               {{"relay", std::to_string(st.index)}, {"error", *fatal}});
    st.producer.reset();
  }
}

/// Records the batch and decides when to claim next.
void end_batch(relay_state& st, steady::time_point delivered_at) {
  record_batch(st);
  log_batch_timing(st.index, *st.claim,
                   {st.started_at, st.claimed_at, st.produced_at, delivered_at});
  // After the coalescing window, an empty claim waits for a NOTIFY.
  bool at_once = claim_again_at_once(st.cfg, st.claim->rows.size());
  forget_batch(st);
  if (at_once) {
    st.phase = relay_phase::claiming;
  } else {
    st.phase = relay_phase::waiting;
    st.woken = true;
    st.claim_at = st.ports.now() + st.cfg.wakeup_coalesce;
    st.next_poll = st.ports.now() + st.cfg.poll_interval;
  }
}

void await_deliveries(relay_state& st) {
  if (st.producer->flush(st.cfg.wait_slice) > 0)
    return;
  auto delivered_at = st.ports.now();
  drop_failed_producer(st);
  if (sort_first_pass(st)) {
    st.phase = relay_phase::alone;
    return;
  }
  end_batch(st, delivered_at);
}

/// One step of the alone pass: waits for the row in flight, then produces the next
/// one, in seq order. One message at a time in the producer, so librdkafka cannot put
/// a second one into its record batch: a refusal now is the row's own.
void send_alone(relay_actor* self) {
  auto& st = self->state;
  if (st.alone_in_flight) {
    if (st.producer->flush(st.cfg.wait_slice) > 0)
      return;
    st.alone_in_flight = false;
    drop_failed_producer(st);
  }
  while (auto next = st.alone.next(st.orders, st.outcomes,
                                   alone_may_start(st.cfg, st.ports.now() - st.started_at))) {
    auto i = *next;
    const auto& row = st.claim->rows[i];
    if (!ensure_producer(self))
      continue;
    st.metrics.retried_alone->inc();
    if (auto refused = st.producer->produce(st.cfg.topic, row, report_token(st.generation, i))) {
      st.outcomes[i] = refused_outcome(refused->permanent, refused->error);
      continue;
    }
    st.outcomes[i].attempt.state = row_attempt::queued;
    st.alone_in_flight = true;
    return;
  }
  sort_alone_pass(st);
  end_batch(st, st.ports.now());
}

/// Waits for a NOTIFY or the fallback poll; after a NOTIFY, for wakeup_coalesce more,
/// serving the notifications that come meanwhile.
void await_wakeup(relay_state& st) {
  using us = std::chrono::microseconds;
  auto now = st.ports.now();
  auto until = st.woken ? st.claim_at : st.next_poll;
  if (now >= until) {
    st.woken = false;
    st.phase = relay_phase::claiming;
    return;
  }
  auto slice = std::min<us>(std::chrono::duration_cast<us>(until - now), st.cfg.wait_slice);
  int notes = st.db->await_notification(slice);
  if (notes > 0 && !st.woken) {
    st.woken = true;
    st.claim_at = st.ports.now() + st.cfg.wakeup_coalesce;
  }
}

/// One step of the loop; every step ends by scheduling the next, so exit messages
/// get their turn in between.
void relay_step(relay_actor* self) {
  auto& st = self->state;
  try {
    switch (st.phase) {
      case relay_phase::claiming:
        if (!ensure_producer(self)) {
          self->delayed_send(self, st.cfg.poll_interval, relay_tick_atom::value);
          return;
        }
        start_batch(self);
        break;
      case relay_phase::delivering:
        await_deliveries(st);
        break;
      case relay_phase::alone:
        send_alone(self);
        break;
      case relay_phase::waiting:
        await_wakeup(st);
        break;
    }
  } catch (const std::exception& e) {
    // Said once per outage, not on every retry.
    log::write(st.failing ? log::level::debug : log::level::warn,
               "outbox relay: database error, retrying",
               {{"relay", std::to_string(st.index)}, {"error", e.what()}});
    st.failing = true;
    reset_after_error(st);
    self->delayed_send(self, st.cfg.backoff_base, relay_tick_atom::value);
    return;
  }
  if (st.failing && st.phase != relay_phase::claiming) {
    log::info("outbox relay: database reachable again", {{"relay", std::to_string(st.index)}});
    st.failing = false;
  }
  self->send(self, relay_tick_atom::value);
}

/// On exit: finish the batch if its reports come within the grace period, else give
/// it up (release it; its rows are sent again by whoever claims them next).
void stop_relay(relay_state& st) {
  bool busy = st.phase == relay_phase::delivering || st.phase == relay_phase::alone;
  if (!busy || !st.claim)
    return;
  try {
    if (!st.producer || st.producer->flush(st.cfg.shutdown_grace) == 0) {
      // Rows not yet sent alone are released (not produced in the alone pass).
      if (st.phase == relay_phase::alone || sort_first_pass(st))
        sort_alone_pass(st);
      record_batch(st);
      st.claim.reset();
      return;
    }
    log::warn(
      "outbox relay stopping: abandoning an unfinished batch",
      {{"relay", std::to_string(st.index)}, {"rows", std::to_string(st.claim->rows.size())}});
    st.producer->purge();
    st.producer->flush(std::chrono::milliseconds{0});
    st.metrics.abandoned_batches->inc();
    st.db->release(*st.claim);
  } catch (const std::exception& e) {
    log::warn("outbox relay stopping: batch left to its lease",
              {{"relay", std::to_string(st.index)}, {"error", e.what()}});
  }
  st.claim.reset();
}

caf::behavior outbox_relay(relay_actor* self, relay_settings cfg, std::size_t index,
                           relay_metrics metrics, relay_ports ports) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.index = index;
  st.metrics = std::move(metrics);
  st.ports = std::move(ports);
  st.max_orders = st.cfg.batch;
  st.db = st.ports.store();
  self->set_exit_handler([self](caf::exit_msg& msg) {
    stop_relay(self->state);
    self->state.producer.reset();
    self->state.db.reset();
    self->quit(msg.reason);
  });
  self->send(self, relay_tick_atom::value);
  return {
    [self](relay_tick_atom) { relay_step(self); },
  };
}

} // namespace

caf::actor spawn_outbox_relay(caf::actor_system& sys, const relay_settings& settings,
                              std::size_t index, const relay_metrics& metrics) {
  return sys.spawn<caf::detached>(outbox_relay, settings, index, metrics,
                                  production_relay_ports(settings, index));
}

caf::actor spawn_outbox_relay_over(caf::actor_system& sys, const relay_settings& settings,
                                   std::size_t index, const relay_metrics& metrics,
                                   relay_ports ports) {
  return sys.spawn(outbox_relay, settings, index, metrics, std::move(ports));
}

} // namespace flashsale
