// The outbox relay actor (actors/outbox/outbox_relay.cpp) over stub ports
// (test/actor/relay_stubs.hpp) on CAF's test_coordinator: what it tells the store about
// each batch (SENT, retried, DEAD, released), how it produces (seq order, nothing of an
// order behind a refusal, one row at a time after a record batch was refused), what it
// does after a store error or a stopped sink, and how it stops (in the alone pass too).
// Deterministic: the test runs the messages one by one; the relay's clock moves only
// when a stub "waits".
#include "actors/outbox/relay_batch.hpp"
#include "actors/outbox/relay_ports.hpp"
#include "metrics/metrics.hpp"
#include "test/actor/caf_fixture.hpp"
#include "test/actor/relay_stubs.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace flashsale;
using namespace flashsale::test;
using namespace std::chrono_literals;
using seqs = std::vector<std::int64_t>;

namespace {

const std::string order_a = "0b7f3c5e-8d2a-4f61-9c3e-1a2b3c4d5e6f";
const std::string order_b = "1c8a4d6f-9e3b-4a72-8d4f-2b3c4d5e6f70";
const std::string order_c = "2d9b5e70-af4c-4b83-9e50-3c4d5e6f7081";

persistence::outbox_row row(std::int64_t seq, const std::string& order, int retry_count = 0) {
  persistence::outbox_row r;
  r.seq = seq;
  r.event_id = "evt-" + std::to_string(seq);
  r.aggregate_id = order;
  r.event_type = "OrderCreated";
  r.payload = R"({"seq":)" + std::to_string(seq) + "}";
  r.retry_count = retry_count;
  return r;
}

persistence::outbox_claim claim_of(std::int64_t id, std::vector<persistence::outbox_row> rows) {
  persistence::outbox_claim c;
  c.claim_id = id;
  std::set<std::string> orders;
  for (const auto& r : rows)
    orders.insert(r.aggregate_id);
  c.orders = orders.size();
  c.rows = std::move(rows);
  return c;
}

struct relay_fixture : caf_fixture {
  std::shared_ptr<relay_world> world = std::make_shared<relay_world>();
  metrics_registry registry;
  relay_metrics metrics = register_outbox_metrics(registry);
  relay_settings cfg;
  caf::actor relay;
  /// More messages than any test needs: a relay still busy after these is stuck.
  static constexpr std::size_t max_steps = 100000;

  /// Spawns the relay; its first step claims at once.
  void start() { relay = spawn_outbox_relay_over(sys, cfg, 0, metrics, stub_relay_ports(world)); }

  /// The relay loops by itself (a stub never blocks), so run() would not return while it
  /// is alive: this runs its messages one by one until `done`.
  template <class Pred>
  void run_until(Pred done) {
    for (std::size_t step = 0; !done(); ++step) {
      BOOST_REQUIRE_MESSAGE(step < max_steps, "the relay never got there");
      BOOST_REQUIRE_MESSAGE(sched.try_run_once(), "the relay waits for a timer");
    }
  }

  /// Runs the queued messages until the relay waits for a timer, failing (not hanging)
  /// when it never comes to rest.
  void settle() {
    BOOST_REQUIRE_MESSAGE(sched.run(max_steps) < max_steps, "the relay never came to rest");
  }

  /// Runs the queued messages until the relay waits for a timer or `stop` holds (when
  /// the relay, broken, would loop on instead of waiting).
  template <class Pred>
  void settle_or(Pred stop) {
    for (std::size_t step = 0; !stop() && sched.try_run_once(); ++step)
      BOOST_REQUIRE_MESSAGE(step < max_steps, "the relay never came to rest");
  }

  /// Moves CAF's clock by `d` (the relay's backoff timer) and settles.
  void pass(caf::timespan d) {
    sched.advance_time(d);
    settle();
  }

  void run_until_recorded(std::size_t batches = 1) {
    run_until([&] { return world->completions.size() >= batches; });
  }

  /// Stops the relay (exit message) and runs its end.
  void stop() {
    caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
    settle();
    relay = nullptr;
  }

  // The relay uses the metrics to its end: stop it before they go.
  ~relay_fixture() {
    if (!relay)
      return;
    caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
    sched.run(max_steps); // no check here: a destructor must not throw
  }

  const completion& only_completion() {
    BOOST_REQUIRE_EQUAL(world->completions.size(), 1u);
    return world->completions.front();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(relay_actor_suite)

BOOST_FIXTURE_TEST_CASE(a_delivered_batch_is_sent_whole_in_seq_order, relay_fixture) {
  world->claims.push_back(
    claim_of(7, {row(1, order_a), row(2, order_b), row(3, order_a), row(4, order_b)}));
  start();
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(c.claim.claim_id == 7);
  BOOST_TEST(c.sent == (seqs{1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(c.failed.empty());
  BOOST_TEST(world->produced == (seqs{1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(world->prepares == 1);
  BOOST_TEST(metrics.published->value() == 4u);
  BOOST_TEST(metrics.failed_attempts->value() == 0u);
  BOOST_TEST(metrics.lag->count() == 4u);
}

BOOST_FIXTURE_TEST_CASE(a_passing_failure_retries_the_row_and_releases_the_rest_of_its_run,
                        relay_fixture) {
  // Order a's run is 1, 3, 4; its first row fails to be delivered, its later ones are
  // acknowledged (they were in flight already) but must not be marked SENT before it.
  world->claims.push_back(claim_of(
    1, {row(1, order_a, 2), row(2, order_b), row(3, order_a), row(4, order_a), row(5, order_b)}));
  world->fates[1] = {send_fate::fail};
  start();
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(c.sent == (seqs{2, 5}), boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(c.failed.size(), 1u);
  BOOST_TEST(c.failed[0].seq == 1);
  BOOST_TEST(!c.failed[0].dead);
  BOOST_TEST(c.failed[0].backoff.count() > 0);
  BOOST_TEST(c.failed[0].backoff.count() == retry_backoff(cfg, 2).count()); // its third retry
  BOOST_TEST(c.failed[0].error == "Local: Message timed out");
  BOOST_TEST(c.released() == (seqs{3, 4}), boost::test_tools::per_element());
  BOOST_TEST(metrics.published->value() == 2u);
  BOOST_TEST(metrics.failed_attempts->value() == 1u);
  BOOST_TEST(metrics.dead->value() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_row_too_large_for_the_producer_is_dead_and_stops_its_order,
                        relay_fixture) {
  world->claims.push_back(claim_of(1, {row(1, order_a), row(2, order_b), row(3, order_a)}));
  world->fates[1] = {send_fate::refuse_too_large};
  start();
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(world->produced == (seqs{1, 2}), boost::test_tools::per_element()); // not 3
  BOOST_REQUIRE_EQUAL(c.failed.size(), 1u);
  BOOST_TEST(c.failed[0].seq == 1);
  BOOST_TEST(c.failed[0].dead);
  BOOST_TEST(c.sent == (seqs{2}), boost::test_tools::per_element());
  BOOST_TEST(c.released() == (seqs{3}), boost::test_tools::per_element());
  BOOST_TEST(metrics.dead->value() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_row_refused_at_once_stops_its_order_for_this_batch, relay_fixture) {
  world->claims.push_back(
    claim_of(1, {row(1, order_a), row(2, order_a), row(3, order_b), row(4, order_a)}));
  world->fates[2] = {send_fate::refuse}; // passing (the producer's queue is full)
  start();
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(world->produced == (seqs{1, 2, 3}), boost::test_tools::per_element()); // not 4
  BOOST_TEST(c.sent == (seqs{1, 3}), boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(c.failed.size(), 1u);
  BOOST_TEST(c.failed[0].seq == 2);
  BOOST_TEST(!c.failed[0].dead);
  BOOST_TEST(c.released() == (seqs{4}), boost::test_tools::per_element());
  BOOST_TEST(metrics.dead->value() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_refused_record_batch_goes_again_one_row_at_a_time, relay_fixture) {
  // The broker refuses the record batch holding 1, 2 and 3 (c's row travelled in
  // another). Alone, 1 is too large itself: DEAD, and a's 3 waits behind it
  // (released, not produced); 2 alone is acknowledged.
  world->claims.push_back(
    claim_of(1, {row(1, order_a), row(2, order_b), row(3, order_a), row(4, order_c)}));
  world->fates[1] = {send_fate::too_large, send_fate::too_large};
  world->fates[2] = {send_fate::too_large, send_fate::ok};
  world->fates[3] = {send_fate::too_large};
  start();
  run_until_recorded();
  const auto& c = only_completion();
  // The first pass, then the alone pass in seq order, each row with nothing else
  // outstanding in the producer.
  BOOST_TEST(world->produced == (seqs{1, 2, 3, 4, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST(world->outstanding_at_produce[4] == 0);
  BOOST_TEST(world->outstanding_at_produce[5] == 0);
  BOOST_TEST(c.sent == (seqs{2, 4}), boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(c.failed.size(), 1u);
  BOOST_TEST(c.failed[0].seq == 1);
  BOOST_TEST(c.failed[0].dead);
  BOOST_TEST(c.released() == (seqs{3}), boost::test_tools::per_element());
  BOOST_TEST(metrics.refused_batches->value() == 1u);
  BOOST_TEST(metrics.retried_alone->value() == 2u);
  BOOST_TEST(metrics.delivered_alone->value() == 1u);
  BOOST_TEST(metrics.dead->value() == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_order_acknowledged_alone_is_sent_whole, relay_fixture) {
  world->claims.push_back(claim_of(1, {row(1, order_a), row(2, order_a), row(3, order_b)}));
  world->fates[1] = {send_fate::too_large, send_fate::ok};
  world->fates[2] = {send_fate::too_large, send_fate::ok};
  start();
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(world->produced == (seqs{1, 2, 3, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST(c.sent == (seqs{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(c.failed.empty());
  BOOST_TEST(metrics.delivered_alone->value() == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_empty_claim_waits_for_the_poll_or_a_notification, relay_fixture) {
  start();
  run_until([&] { return world->claim_calls == 1; });
  auto empty_at = world->now;
  run_until([&] { return world->claim_calls == 2; });
  BOOST_TEST((world->now - empty_at == cfg.poll_interval)); // no NOTIFY: the fallback poll
  BOOST_TEST(metrics.empty_claims->value() == 2u);
  auto notified_at = world->now;
  world->notifications = 1; // a commit: claimed after the coalescing window, not the poll
  run_until([&] { return world->claim_calls == 3; });
  BOOST_TEST((world->now - notified_at == cfg.wakeup_coalesce));
}

BOOST_FIXTURE_TEST_CASE(a_failed_claim_resets_the_store_and_claims_again_after_the_backoff,
                        relay_fixture) {
  world->fail_next.insert("claim");
  world->claims.push_back(claim_of(2, {row(1, order_a)}));
  start();
  settle(); // the step fails, then the relay waits for its backoff timer
  BOOST_TEST(world->claim_calls == 1);
  BOOST_TEST(world->disconnects == 1);
  BOOST_TEST(world->purges == 0); // nothing was outstanding
  pass(cfg.backoff_base - 1ms);
  BOOST_TEST(world->claim_calls == 1);
  sched.advance_time(1ms);
  run_until_recorded();
  BOOST_TEST(world->claim_calls == 2);
  BOOST_TEST(world->prepares == 2); // a new session is prepared again
  BOOST_TEST(only_completion().sent == (seqs{1}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_failed_record_forgets_the_batch_and_claims_again_after_the_backoff,
                        relay_fixture) {
  world->fail_next.insert("complete");
  world->claims.push_back(claim_of(1, {row(1, order_a), row(2, order_b)}));
  world->claims.push_back(claim_of(2, {row(1, order_a), row(2, order_b)})); // after the lease
  start();
  settle();
  BOOST_TEST(world->completions.empty());
  BOOST_TEST(world->disconnects == 1);
  BOOST_TEST(world->claim_calls == 1);
  BOOST_TEST(metrics.abandoned_batches->value() == 1u);
  BOOST_TEST(metrics.published->value() == 0u);
  pass(cfg.backoff_base - 1ms);
  BOOST_TEST(world->claim_calls == 1);
  sched.advance_time(1ms);
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(c.claim.claim_id == 2); // the new batch, nothing of the forgotten one
  BOOST_TEST(c.sent == (seqs{1, 2}), boost::test_tools::per_element());
  BOOST_TEST(world->produced == (seqs{1, 2, 1, 2}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(an_error_with_rows_outstanding_purges_them, relay_fixture) {
  // Any exception of a step ends in the same handler; one while producing leaves the
  // batch's first row outstanding. Its purged report must not reach the next batch.
  world->latency = 50ms;
  world->produce_throws_at = 1; // the second row's produce
  world->claims.push_back(claim_of(1, {row(1, order_a), row(2, order_b)}));
  world->claims.push_back(claim_of(2, {row(1, order_a), row(2, order_b)}));
  start();
  settle();
  BOOST_TEST(world->produced == (seqs{1}), boost::test_tools::per_element());
  BOOST_TEST(world->purges == 1);
  BOOST_TEST(world->disconnects == 1);
  BOOST_TEST(world->completions.empty());
  sched.advance_time(cfg.backoff_base);
  run_until_recorded();
  const auto& c = only_completion();
  BOOST_TEST(c.claim.claim_id == 2);
  BOOST_TEST(c.sent == (seqs{1, 2}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(stopping_records_a_batch_whose_reports_come_within_the_grace,
                        relay_fixture) {
  world->latency = cfg.shutdown_grace / 2; // longer than a step's wait, within the grace
  world->claims.push_back(claim_of(1, {row(1, order_a), row(2, order_b)}));
  start();
  run_until([&] { return world->produced.size() == 2; });
  BOOST_TEST(world->completions.empty());
  stop();
  const auto& c = only_completion();
  BOOST_TEST(c.sent == (seqs{1, 2}), boost::test_tools::per_element());
  BOOST_TEST(world->released_claims.empty());
  BOOST_TEST(world->purges == 0);
}

BOOST_FIXTURE_TEST_CASE(stopping_releases_a_batch_whose_reports_do_not_come, relay_fixture) {
  world->latency = cfg.shutdown_grace * 2;
  world->claims.push_back(claim_of(4, {row(1, order_a), row(2, order_b)}));
  start();
  run_until([&] { return world->produced.size() == 2; });
  stop();
  BOOST_TEST(world->completions.empty());
  BOOST_TEST(world->released_claims == (seqs{4}), boost::test_tools::per_element());
  BOOST_TEST(world->purges == 1);
  BOOST_TEST(metrics.abandoned_batches->value() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_sink_stopped_by_a_fatal_error_is_replaced_when_one_can_be_made,
                        relay_fixture) {
  // Row 1's refusal stops the first sink (the gapless guarantee): the batch is still
  // recorded as its reports said, 1 retried, and the next claim goes through a new sink.
  world->claims.push_back(claim_of(1, {row(1, order_a), row(2, order_b)}));
  world->claims.push_back(claim_of(2, {row(1, order_a, 1), row(3, order_b)}));
  world->fates[1] = {send_fate::fatal};
  start();
  run_until_recorded();
  const auto first = world->completions.front(); // a copy: a second record follows
  BOOST_TEST(first.sent == (seqs{2}), boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(first.failed.size(), 1u);
  BOOST_TEST(first.failed[0].seq == 1);
  BOOST_TEST(!first.failed[0].dead);
  BOOST_TEST(first.failed[0].error == "Local: Fatal error");

  // No sink can be made now: nothing is claimed until the poll interval has passed.
  world->sinks_unavailable = 1;
  auto claimed = [&] { return world->claim_calls > 1; };
  settle_or(claimed);
  BOOST_TEST(world->claim_calls == 1);
  BOOST_TEST(world->sink_attempts == 2); // a new sink was asked for, and none came
  sched.advance_time(cfg.poll_interval - 1ms);
  settle_or(claimed);
  BOOST_TEST(world->claim_calls == 1);
  BOOST_TEST(world->sink_attempts == 2);
  sched.advance_time(1ms);
  run_until_recorded(2);
  BOOST_TEST(world->sink_attempts == 3);
  BOOST_TEST(world->sinks_made == 2);
  BOOST_TEST(world->claim_calls == 2);
  const auto& second = world->completions.back();
  BOOST_TEST(second.claim.claim_id == 2);
  BOOST_TEST(second.sent == (seqs{1, 3}), boost::test_tools::per_element());
  BOOST_TEST(second.failed.empty());
  // The first sink had the first batch and nothing more; the new one the second batch.
  BOOST_TEST(world->produced == (seqs{1, 2, 1, 3}), boost::test_tools::per_element());
  BOOST_TEST(world->produced_by == (std::vector<int>{1, 1, 2, 2}),
             boost::test_tools::per_element());
}

namespace {

/// Claim 5: a's 1 and 2 and b's 3 travel in a record batch the broker refuses, c's 4 in
/// another that is acknowledged. Runs the relay until row 1 is produced alone and in
/// flight, its report coming `alone_latency` later.
void run_into_the_alone_pass(relay_fixture& f, std::chrono::milliseconds alone_latency) {
  f.world->claims.push_back(
    claim_of(5, {row(1, order_a), row(2, order_a), row(3, order_b), row(4, order_c)}));
  for (std::int64_t seq : {1, 2, 3})
    f.world->fates[seq] = {send_fate::too_large, send_fate::ok};
  f.start();
  f.run_until([&] { return f.world->produced.size() == 4; }); // the first pass
  f.world->latency = alone_latency;
  f.run_until([&] { return f.world->produced.size() == 5; }); // row 1, alone
  BOOST_TEST(f.world->produced == (seqs{1, 2, 3, 4, 1}), boost::test_tools::per_element());
  BOOST_TEST(f.world->completions.empty());
  BOOST_TEST(f.metrics.refused_batches->value() == 1u);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(stopping_in_the_alone_pass_records_the_batch_within_the_grace,
                        relay_fixture) {
  // Row 1's report comes within the grace (and beyond a step's wait); 2 and 3 were
  // never produced alone: released, not produced now.
  run_into_the_alone_pass(*this, cfg.shutdown_grace / 2);
  stop();
  BOOST_TEST(world->produced == (seqs{1, 2, 3, 4, 1}), boost::test_tools::per_element());
  const auto& c = only_completion();
  BOOST_TEST(c.claim.claim_id == 5);
  BOOST_TEST(c.sent == (seqs{1, 4}), boost::test_tools::per_element());
  BOOST_TEST(c.failed.empty());
  BOOST_TEST(c.released() == (seqs{2, 3}), boost::test_tools::per_element());
  BOOST_TEST(world->released_claims.empty());
  BOOST_TEST(world->purges == 0);
  BOOST_TEST(metrics.delivered_alone->value() == 1u);
  BOOST_TEST(metrics.abandoned_batches->value() == 0u);
}

BOOST_FIXTURE_TEST_CASE(stopping_in_the_alone_pass_releases_the_batch_after_the_grace,
                        relay_fixture) {
  run_into_the_alone_pass(*this, cfg.shutdown_grace * 2);
  stop();
  BOOST_TEST(world->produced == (seqs{1, 2, 3, 4, 1}), boost::test_tools::per_element());
  BOOST_TEST(world->completions.empty()); // not even the acknowledged 4: all released
  BOOST_TEST(world->released_claims == (seqs{5}), boost::test_tools::per_element());
  BOOST_TEST(world->purges == 1);
  BOOST_TEST(metrics.abandoned_batches->value() == 1u);
  BOOST_TEST(metrics.delivered_alone->value() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
