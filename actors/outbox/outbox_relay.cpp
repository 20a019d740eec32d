#include "actors/outbox/outbox_actors.hpp"

#include "actors/log.hpp"
#include "kafka/producer.hpp"
#include "actors/outbox/relay_batch.hpp"
#include "messages/event_headers.hpp"
#include "persistence/outbox_repository.hpp"
#include "persistence/pg_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <cmath>
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

/// What happened to one claimed row in this batch (in the pass under way).
struct row_outcome {
  row_attempt attempt;
  std::string error;
};

struct relay_state {
  relay_settings cfg;
  std::size_t index = 0;
  relay_metrics metrics;
  std::unique_ptr<persistence::pg_session> db;
  std::unique_ptr<kafka::producer> producer;
  bool listening = false;
  bool failing = false; // the last step failed on the database
  relay_phase phase = relay_phase::claiming;
  steady::time_point next_poll{};
  bool woken = false;           // a NOTIFY came: claim at claim_at
  steady::time_point claim_at{};
  std::size_t max_orders = 0; // heads per claim, adapted to the run lengths seen

  std::optional<persistence::outbox_claim> claim;
  std::vector<row_outcome> outcomes;
  std::vector<row_fate> fates;         // the first pass, sorted (actors/outbox/relay_batch.hpp)
  std::vector<std::size_t> alone_rows; // rows to send again alone, in seq order
  std::size_t alone_next = 0;          // the next of them to produce
  bool alone_in_flight = false;        // alone_rows[alone_next - 1] awaits its report
  std::uint32_t generation = 0;    // tells this batch's reports from older ones
  steady::time_point started_at{}; // for the per-batch debug line
  steady::time_point claimed_at{};
  steady::time_point produced_at{};

  static inline const char* name = "outbox_relay";
};

using relay_actor = caf::stateful_actor<relay_state>;

std::uint64_t token_of(std::uint32_t generation, std::size_t index) {
  return (static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint32_t>(index);
}

void on_delivery(relay_state& st, const kafka::delivery_report& r) {
  if (!st.claim || (r.token >> 32) != st.generation)
    return; // a report of an abandoned batch
  auto i = static_cast<std::size_t>(r.token & 0xffffffffu);
  if (i >= st.outcomes.size())
    return;
  auto& out = st.outcomes[i];
  if (r.ok) {
    out.attempt.state = row_attempt::delivered;
    st.metrics.lag->observe(std::max(0.0, unix_now() - st.claim->rows[i].created_at));
    return;
  }
  // A broker's refusal holds for the record batch the row travelled in, not
  // necessarily for the row: librdkafka does not split a refused batch.
  out.attempt = {row_attempt::failed,
                 r.permanent ? row_attempt::refused_in_batch : row_attempt::passing};
  out.error = r.error;
}

/// The attempt of a row that produce() refused at once: that refusal is the row's own
/// (e.g. larger than our message.max.bytes).
row_outcome refused_outcome(const kafka::delivery_report& refused) {
  return {{row_attempt::failed,
           refused.permanent ? row_attempt::refused_alone : row_attempt::passing},
          refused.error};
}

void log_kafka(std::size_t relay, kafka::log_severity sev, const std::string& fac,
               const std::string& text) {
  log::fields f{{"relay", std::to_string(relay)}, {"facility", fac}, {"detail", text}};
  switch (sev) {
    case kafka::log_severity::error:
      log::error("kafka producer", f);
      break;
    case kafka::log_severity::warning:
      log::warn("kafka producer", f);
      break;
    case kafka::log_severity::info:
      log::info("kafka producer", f);
      break;
    case kafka::log_severity::debug:
      log::debug("kafka producer", f);
      break;
  }
}

bool ensure_producer(relay_actor* self) {
  auto& st = self->state;
  if (st.producer)
    return true;
  kafka::producer_settings ps;
  ps.brokers = st.cfg.kafka_brokers;
  ps.client_id = "flashsale-order-relay-" + std::to_string(st.index);
  ps.linger_ms = st.cfg.linger_ms;
  ps.extra = st.cfg.producer_extra;
  ps.max_in_flight = st.cfg.max_in_flight;
  ps.message_timeout_ms = static_cast<int>(st.cfg.message_timeout.count());
  std::string error;
  auto relay = st.index;
  st.producer = kafka::producer::create(
    ps, [self](const kafka::delivery_report& r) { on_delivery(self->state, r); },
    [relay](kafka::log_severity sev, const std::string& fac, const std::string& text) {
      log_kafka(relay, sev, fac, text);
    },
    error);
  if (!st.producer) {
    log::error("outbox relay cannot create producer",
               {{"relay", std::to_string(st.index)}, {"error", error}});
    return false;
  }
  // Bounded by one wait slice: a broker that is down must not keep exit messages
  // waiting; librdkafka fetches the metadata by itself later anyway.
  if (auto failed = st.producer->warm_up(st.cfg.topic, st.cfg.wait_slice))
    log::warn("outbox relay: no topic metadata yet",
              {{"relay", std::to_string(st.index)}, {"error", *failed}});
  return true;
}

/// The row's Kafka headers (CONTRACT §5): event_type, CloudEvents binary mode, traceparent.
std::vector<kafka::header> headers_of(const persistence::outbox_row& row) {
  auto made = event_headers(
    {row.event_id, row.event_type, row.aggregate_id, row.payload, row.traceparent});
  std::vector<kafka::header> out;
  out.reserve(made.size());
  for (auto& [name, value] : made)
    out.push_back({std::move(name), std::move(value)});
  return out;
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
    auto refused =
      st.producer->produce(st.cfg.topic, row.aggregate_id, row.payload, headers_of(row),
                           token_of(st.generation, i));
    if (refused) {
      st.outcomes[i] = refused_outcome(*refused);
      stopped.insert(row.aggregate_id);
    } else {
      st.outcomes[i].attempt.state = row_attempt::queued;
    }
  }
}

std::chrono::milliseconds backoff_for(const relay_settings& cfg, int retry_count) {
  auto factor = std::pow(2.0, std::min(retry_count, 30));
  auto ms = static_cast<double>(cfg.backoff_base.count()) * factor;
  return std::chrono::milliseconds{
    static_cast<std::int64_t>(std::min(ms, static_cast<double>(cfg.backoff_max.count())))};
}

persistence::outbox_failure failure_for(const relay_state& st, const persistence::outbox_row& row,
                                        const row_outcome& out, bool dead) {
  persistence::outbox_failure f;
  f.seq = row.seq;
  f.error = out.error;
  f.backoff = backoff_for(st.cfg, row.retry_count);
  f.dead = dead;
  log::fields fields{{"order_id", row.aggregate_id},
                     {"event_id", row.event_id},
                     {"event_type", row.event_type},
                     {"attempt", std::to_string(row.retry_count + 1)},
                     {"bytes", std::to_string(row.payload.size())},
                     {"error", out.error},
                     log::trace_field(row.traceparent)};
  // Said on an event's first failure; an outage would otherwise log every retry.
  if (f.dead)
    log::error("outbox event dead: no broker can accept it", fields);
  else
    log::write(row.retry_count == 0 ? log::level::warn : log::level::debug,
               "outbox event not published, will retry", fields);
  return f;
}

/// Records the batch as st.fates says (actors/outbox/relay_batch.hpp; point 4 of
/// persistence/outbox_repository.cpp): SENT, retry, DEAD; released otherwise.
void record_batch(relay_state& st) {
  const auto& rows = st.claim->rows;
  std::vector<std::int64_t> sent;
  std::vector<persistence::outbox_failure> failed;
  std::size_t dead = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    switch (st.fates[i]) {
      case row_fate::sent:
        sent.push_back(rows[i].seq);
        break;
      case row_fate::dead:
        ++dead;
        failed.push_back(failure_for(st, rows[i], st.outcomes[i], true));
        break;
      case row_fate::retry:
        failed.push_back(failure_for(st, rows[i], st.outcomes[i], false));
        break;
      case row_fate::retry_alone: // only between the passes
      case row_fate::release:
        if (st.outcomes[i].attempt.state == row_attempt::delivered)
          log::warn("outbox event delivered after an earlier one of its order failed",
                    {{"order_id", rows[i].aggregate_id}, {"event_id", rows[i].event_id},
                     log::trace_field(rows[i].traceparent)});
        break;
    }
  }
  st.db->with(
    [&](auto& conn) { persistence::complete_outbox_claim(conn, *st.claim, sent, failed); });
  st.metrics.published->inc(sent.size());
  st.metrics.failed_attempts->inc(failed.size());
  st.metrics.dead->inc(dead);
}

std::vector<std::string_view> orders_of(const relay_state& st,
                                        const std::vector<std::size_t>& rows) {
  std::vector<std::string_view> orders;
  orders.reserve(rows.size());
  for (auto i : rows)
    orders.push_back(st.claim->rows[i].aggregate_id);
  return orders;
}

/// Sorts the first pass; returns true when rows are to be sent again alone (the
/// broker refused their record batch), with the alone pass set up.
bool sort_first_pass(relay_state& st) {
  std::vector<std::size_t> all(st.claim->rows.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  std::vector<row_attempt> attempts;
  attempts.reserve(all.size());
  for (const auto& out : st.outcomes)
    attempts.push_back(out.attempt);
  st.fates = sort_batch(orders_of(st, all), attempts, false);
  st.alone_rows.clear();
  for (std::size_t i = 0; i < st.fates.size(); ++i)
    if (st.fates[i] == row_fate::retry_alone)
      st.alone_rows.push_back(i);
  st.alone_next = 0;
  st.alone_in_flight = false;
  if (st.alone_rows.empty())
    return false;
  const auto& first = st.claim->rows[st.alone_rows.front()];
  log::warn("outbox: a broker refused a record batch as too large for the topic; sending "
            "its events again one by one, only one refused alone becomes DEAD",
            {{"relay", std::to_string(st.index)},
             {"rows", std::to_string(st.alone_rows.size())},
             {"order_id", first.aggregate_id},
             {"error", st.outcomes[st.alone_rows.front()].error}});
  st.metrics.refused_batches->inc();
  // The second pass starts from nothing: a row it does not reach is released.
  for (auto i : st.alone_rows)
    st.outcomes[i] = {};
  return true;
}

/// Sorts the alone pass into st.fates: per order, what was acknowledged alone is
/// SENT, a row refused alone is DEAD, the rest retried or released.
void sort_alone_pass(relay_state& st) {
  std::vector<row_attempt> attempts;
  attempts.reserve(st.alone_rows.size());
  for (auto i : st.alone_rows)
    attempts.push_back(st.outcomes[i].attempt);
  auto fates = sort_batch(orders_of(st, st.alone_rows), attempts, true);
  for (std::size_t k = 0; k < fates.size(); ++k)
    st.fates[st.alone_rows[k]] = fates[k];
  st.metrics.delivered_alone->inc(count_fate(fates, row_fate::sent));
}

/// Heads to claim next: as many as the last batch's runs suggest fill one batch.
void adapt_max_orders(relay_state& st) {
  const auto rows = st.claim->rows.size();
  const auto orders = std::max<std::size_t>(1, st.claim->orders);
  if (rows < st.cfg.batch)
    st.max_orders = st.cfg.batch;
  else
    st.max_orders = std::clamp<std::size_t>(st.cfg.batch * orders / rows + 1, 1, st.cfg.batch);
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
  st.claim.reset();
  st.outcomes.clear();
  st.fates.clear();
  st.alone_rows.clear();
  st.db->reset();
  st.listening = false;
  st.phase = relay_phase::claiming;
}

void start_batch(relay_actor* self) {
  auto& st = self->state;
  // Every call runs under the session's watchdog (pg_session::with): one the database
  // does not answer is cut after db_limits.call_timeout() and ends up in relay_step's
  // handler, which drops the connection and retries.
  if (!st.listening) {
    st.db->with([](auto& conn) { persistence::prepare_relay_session(conn); });
    st.listening = true;
  }
  ++st.generation;
  st.started_at = steady::now();
  st.claim = st.db->with([&st](auto& conn) {
    return persistence::claim_outbox(conn, st.max_orders, st.cfg.batch,
                                     st.cfg.message_timeout + st.cfg.lease_margin,
                                     st.cfg.claim_runs);
  });
  if (st.claim->rows.empty()) {
    st.claim.reset();
    st.metrics.empty_claims->inc();
    if (st.db->with([](auto& conn) { return persistence::outbox_has_due_rows(conn); }))
      st.metrics.contended_claims->inc();
    st.max_orders = st.cfg.batch;
    st.phase = relay_phase::waiting;
    st.next_poll = steady::now() + st.cfg.poll_interval;
    return;
  }
  st.metrics.batch_rows->observe(static_cast<double>(st.claim->rows.size()));
  adapt_max_orders(st);
  st.claimed_at = steady::now();
  produce_batch(st);
  st.produced_at = steady::now();
  st.phase = relay_phase::delivering;
}

void log_batch_timing(const relay_state& st, steady::time_point delivered_at) {
  auto ms = [](auto from, auto to) {
    return std::to_string(std::chrono::duration<double, std::milli>(to - from).count());
  };
  log::debug("outbox batch", {{"relay", std::to_string(st.index)},
                              {"rows", std::to_string(st.claim->rows.size())},
                              {"orders", std::to_string(st.claim->orders)},
                              {"claim_ms", ms(st.started_at, st.claimed_at)},
                              {"produce_ms", ms(st.claimed_at, st.produced_at)},
                              {"deliver_ms", ms(st.produced_at, delivered_at)},
                              {"commit_ms", ms(delivered_at, steady::now())}});
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
  log_batch_timing(st, delivered_at);
  // A full batch suggests more: claim again at once. Otherwise claim again after the
  // coalescing window, so that the commits arriving meanwhile gather into one claim
  // (an empty claim then waits for a NOTIFY).
  bool full = st.claim->rows.size() >= st.cfg.batch;
  st.claim.reset();
  st.outcomes.clear();
  st.fates.clear();
  st.alone_rows.clear();
  if (full) {
    st.phase = relay_phase::claiming;
  } else {
    st.phase = relay_phase::waiting;
    st.woken = true;
    st.claim_at = steady::now() + st.cfg.wakeup_coalesce;
    st.next_poll = steady::now() + st.cfg.poll_interval;
  }
}

void await_deliveries(relay_state& st) {
  if (st.producer->flush(st.cfg.wait_slice) > 0)
    return;
  auto delivered_at = steady::now();
  drop_failed_producer(st);
  if (sort_first_pass(st)) {
    st.phase = relay_phase::alone;
    return;
  }
  end_batch(st, delivered_at);
}

/// Whether another row may still be sent alone: its report comes within
/// message_timeout, and must come before the batch's lease (message_timeout +
/// lease_margin from the claim) runs out, so that no other relay sends its order.
bool alone_budget_left(const relay_state& st) {
  return steady::now() < st.started_at + st.cfg.lease_margin;
}

/// Whether an earlier row of `order` in the alone pass was not acknowledged: then the
/// order's later rows wait (its events stay in commit order).
bool alone_order_stopped(const relay_state& st, std::string_view order) {
  for (std::size_t k = 0; k + 1 < st.alone_next; ++k) {
    auto i = st.alone_rows[k];
    if (st.claim->rows[i].aggregate_id == order
        && st.outcomes[i].attempt.state != row_attempt::delivered)
      return true;
  }
  return false;
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
  while (st.alone_next < st.alone_rows.size() && alone_budget_left(st)) {
    auto i = st.alone_rows[st.alone_next++];
    const auto& row = st.claim->rows[i];
    if (alone_order_stopped(st, row.aggregate_id) || !ensure_producer(self))
      continue;
    st.metrics.retried_alone->inc();
    if (auto refused = st.producer->produce(st.cfg.topic, row.aggregate_id, row.payload,
                                            headers_of(row), token_of(st.generation, i))) {
      st.outcomes[i] = refused_outcome(*refused);
      continue;
    }
    st.outcomes[i].attempt.state = row_attempt::queued;
    st.alone_in_flight = true;
    return;
  }
  sort_alone_pass(st);
  end_batch(st, steady::now());
}

/// Waits for a NOTIFY or the fallback poll; after a NOTIFY, for wakeup_coalesce more,
/// serving the notifications that come meanwhile.
void await_wakeup(relay_state& st) {
  using us = std::chrono::microseconds;
  auto now = steady::now();
  auto until = st.woken ? st.claim_at : st.next_poll;
  if (now >= until) {
    st.woken = false;
    st.phase = relay_phase::claiming;
    return;
  }
  auto slice = std::min<us>(std::chrono::duration_cast<us>(until - now), st.cfg.wait_slice);
  int notes = st.db->with(
    [slice](auto& conn) { return persistence::await_outbox_notification(conn, slice); });
  if (notes > 0 && !st.woken) {
    st.woken = true;
    st.claim_at = steady::now() + st.cfg.wakeup_coalesce;
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
    st.db->with([&st](auto& conn) { persistence::release_outbox_claim(conn, *st.claim); });
  } catch (const std::exception& e) {
    log::warn("outbox relay stopping: batch left to its lease",
              {{"relay", std::to_string(st.index)}, {"error", e.what()}});
  }
  st.claim.reset();
}

caf::behavior outbox_relay(relay_actor* self, relay_settings cfg, std::size_t index,
                           relay_metrics metrics) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.index = index;
  st.metrics = std::move(metrics);
  st.max_orders = st.cfg.batch;
  st.db = std::make_unique<persistence::pg_session>(
    st.cfg.database_url, std::chrono::milliseconds{500}, st.cfg.db_limits);
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
  return sys.spawn<caf::detached>(outbox_relay, settings, index, metrics);
}

} // namespace flashsale
