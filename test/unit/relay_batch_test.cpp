#include "actors/outbox/relay_batch.hpp"

#include <boost/test/unit_test.hpp>

#include <string_view>
#include <vector>

using namespace flashsale;

namespace {

const row_attempt delivered{row_attempt::delivered};
const row_attempt not_produced{row_attempt::not_produced};
const row_attempt queued{row_attempt::queued};
const row_attempt passing{row_attempt::failed, row_attempt::passing};
const row_attempt in_batch{row_attempt::failed, row_attempt::refused_in_batch};
const row_attempt own{row_attempt::failed, row_attempt::refused_alone};

using fates = std::vector<row_fate>;
using orders = std::vector<std::string_view>;

bool same(const fates& got, const fates& want) {
  return got == want;
}

} // namespace

BOOST_AUTO_TEST_SUITE(relay_batch)

BOOST_AUTO_TEST_CASE(a_delivered_batch_is_sent) {
  auto f = sort_batch({"a", "b", "a"}, {delivered, delivered, delivered}, false);
  BOOST_TEST(same(f, {row_fate::sent, row_fate::sent, row_fate::sent}));
}

BOOST_AUTO_TEST_CASE(a_refused_batch_goes_again_alone_not_dead) {
  // The broker refused the record batch of a, b, c and a's second event: none of them
  // is known to be too large itself.
  auto f = sort_batch({"a", "b", "c", "a"}, {in_batch, in_batch, in_batch, in_batch}, false);
  BOOST_TEST(same(f, {row_fate::retry_alone, row_fate::retry_alone, row_fate::retry_alone,
                      row_fate::retry_alone}));
  BOOST_TEST(count_fate(f, row_fate::dead) == 0u);
}

BOOST_AUTO_TEST_CASE(refused_while_alone_is_dead_and_its_order_waits) {
  auto f = sort_batch({"a", "b", "a", "b"}, {in_batch, delivered, not_produced, delivered}, true);
  BOOST_TEST(same(f, {row_fate::dead, row_fate::sent, row_fate::release, row_fate::sent}));
}

BOOST_AUTO_TEST_CASE(a_row_refused_by_the_producer_itself_is_dead_at_once) {
  // produce() refused it (larger than message.max.bytes): its own size, no second pass.
  auto f = sort_batch({"a", "a", "b"}, {own, not_produced, delivered}, false);
  BOOST_TEST(same(f, {row_fate::dead, row_fate::release, row_fate::sent}));
}

BOOST_AUTO_TEST_CASE(an_order_keeps_its_delivered_prefix_and_follows_its_retried_row_alone) {
  // a: first delivered, then refused with its batch; its later rows follow alone in order,
  // whatever their own report said (dropped when the producer stopped, or none).
  auto f = sort_batch({"a", "a", "a", "a"}, {delivered, in_batch, passing, not_produced}, false);
  BOOST_TEST(same(f, {row_fate::sent, row_fate::retry_alone, row_fate::retry_alone,
                      row_fate::release}));
}

BOOST_AUTO_TEST_CASE(a_passing_failure_is_retried_and_its_order_released_behind_it) {
  auto f = sort_batch({"a", "a", "b"}, {passing, in_batch, delivered}, false);
  BOOST_TEST(same(f, {row_fate::retry, row_fate::release, row_fate::sent}));
  // The same while alone: a broker away is no reason to give an event up.
  f = sort_batch({"a", "a"}, {passing, delivered}, true);
  BOOST_TEST(same(f, {row_fate::retry, row_fate::release}));
}

BOOST_AUTO_TEST_CASE(rows_without_a_report_are_released) {
  auto f = sort_batch({"a", "b"}, {queued, not_produced}, false);
  BOOST_TEST(same(f, {row_fate::release, row_fate::release}));
}

BOOST_AUTO_TEST_CASE(a_delivery_after_a_failure_of_its_order_is_not_marked_sent) {
  // SENT must stay a prefix of each order's run (outbox_repository.cpp, point 4).
  auto f = sort_batch({"a", "a"}, {passing, delivered}, false);
  BOOST_TEST(same(f, {row_fate::retry, row_fate::release}));
  f = sort_batch({"a", "a", "a"}, {delivered, own, delivered}, true);
  BOOST_TEST(same(f, {row_fate::sent, row_fate::dead, row_fate::release}));
}

BOOST_AUTO_TEST_CASE(empty_and_short_inputs) {
  BOOST_TEST(sort_batch({}, {}, false).empty());
  // Fewer attempts than rows (never by the relay): the rest is released, not guessed.
  auto f = sort_batch(orders{"a", "b"}, {delivered}, false);
  BOOST_TEST(same(f, {row_fate::sent, row_fate::release}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(relay_decisions)

namespace {

row_outcome outcome(row_attempt a, const char* error = "") {
  return {a, error};
}

} // namespace

BOOST_AUTO_TEST_CASE(backoff_doubles_from_the_base_up_to_the_cap) {
  relay_settings cfg;
  cfg.backoff_base = std::chrono::milliseconds{500};
  cfg.backoff_max = std::chrono::milliseconds{5000};
  BOOST_TEST(retry_backoff(cfg, 0).count() == 500);
  BOOST_TEST(retry_backoff(cfg, 1).count() == 1000);
  BOOST_TEST(retry_backoff(cfg, 3).count() == 4000);
  BOOST_TEST(retry_backoff(cfg, 4).count() == 5000);
  BOOST_TEST(retry_backoff(cfg, 1000000).count() == 5000); // no overflow, ever
}

BOOST_AUTO_TEST_CASE(the_lease_covers_the_reports_and_the_margin) {
  relay_settings cfg;
  cfg.message_timeout = std::chrono::milliseconds{5000};
  cfg.lease_margin = std::chrono::milliseconds{3000};
  BOOST_TEST(claim_lease(cfg).count() == 8000);
  // An alone row may start only while its report (message_timeout) still comes
  // within the lease.
  BOOST_TEST(alone_may_start(cfg, std::chrono::milliseconds{2999}));
  BOOST_TEST(!alone_may_start(cfg, std::chrono::milliseconds{3000}));
}

BOOST_AUTO_TEST_CASE(heads_follow_the_run_lengths_of_a_full_batch) {
  relay_settings cfg;
  cfg.batch = 100;
  BOOST_TEST(heads_to_claim(cfg, 0, 0) == 100u);   // empty: no runs seen
  BOOST_TEST(heads_to_claim(cfg, 40, 10) == 100u); // not full: the runs did not limit it
  BOOST_TEST(heads_to_claim(cfg, 100, 25) == 26u); // runs of 4: 25 orders fill a batch
  BOOST_TEST(heads_to_claim(cfg, 100, 100) == 100u);
  BOOST_TEST(heads_to_claim(cfg, 100, 0) == 2u); // orders counted at least once
  BOOST_TEST(claim_again_at_once(cfg, 100));
  BOOST_TEST(!claim_again_at_once(cfg, 99));
}

BOOST_AUTO_TEST_CASE(reports_become_outcomes_and_tokens_round_trip) {
  BOOST_TEST(reported_outcome(true, false, "").attempt.state == row_attempt::delivered);
  auto in_batch_refusal = reported_outcome(false, true, "too large");
  BOOST_TEST(in_batch_refusal.attempt.failure == row_attempt::refused_in_batch);
  BOOST_TEST(in_batch_refusal.error == "too large");
  BOOST_TEST(reported_outcome(false, false, "down").attempt.failure == row_attempt::passing);
  BOOST_TEST(refused_outcome(true, "big").attempt.failure == row_attempt::refused_alone);
  BOOST_TEST(refused_outcome(false, "full").attempt.failure == row_attempt::passing);
  auto t = report_token(7, 123);
  BOOST_TEST(token_generation(t) == 7u);
  BOOST_TEST(token_row(t) == 123u);
}

BOOST_AUTO_TEST_CASE(the_alone_pass_keeps_each_order_in_seq_order) {
  std::vector<std::string_view> rows{"a", "b", "a", "c", "b"};
  std::vector<row_outcome> out{outcome(in_batch, "x"), outcome(in_batch), outcome(in_batch),
                               outcome(delivered), outcome(in_batch)};
  auto f = sort_first_pass(rows, out);
  alone_pass pass;
  pass.start(f);
  BOOST_TEST(pass.size() == 4u);
  BOOST_TEST(pass.first() == 0u);
  pass.clear_outcomes(out);
  BOOST_TEST(out[0].attempt.state == row_attempt::not_produced);
  BOOST_TEST(out[0].error.empty());
  BOOST_TEST(out[3].attempt.state == row_attempt::delivered); // not in the pass
  // a's first row is refused alone: a's second waits; b goes through.
  BOOST_TEST(*pass.next(rows, out, true) == 0u);
  out[0] = outcome(own, "too large");
  BOOST_TEST(*pass.next(rows, out, true) == 1u);
  out[1] = outcome(delivered);
  BOOST_TEST(*pass.next(rows, out, true) == 4u); // row 2 (a) skipped
  out[4] = outcome(delivered);
  BOOST_TEST(!pass.next(rows, out, true));
  BOOST_TEST(pass.sort_into(f, rows, out) == 2u);
  BOOST_TEST(same(f, {row_fate::dead, row_fate::sent, row_fate::release, row_fate::sent,
                      row_fate::sent}));
}

BOOST_AUTO_TEST_CASE(the_alone_pass_stops_when_the_lease_runs_short) {
  std::vector<std::string_view> rows{"a", "b"};
  std::vector<row_outcome> out{outcome(in_batch), outcome(in_batch)};
  auto f = sort_first_pass(rows, out);
  alone_pass pass;
  pass.start(f);
  pass.clear_outcomes(out);
  BOOST_TEST(!pass.next(rows, out, false));
  pass.sort_into(f, rows, out);
  BOOST_TEST(same(f, {row_fate::release, row_fate::release})); // claimed again later
}

BOOST_AUTO_TEST_CASE(a_record_lists_what_to_write_per_fate) {
  relay_settings cfg;
  std::vector<persistence::outbox_row> rows(4);
  for (std::size_t i = 0; i < rows.size(); ++i)
    rows[i].seq = static_cast<std::int64_t>(10 + i);
  rows[1].retry_count = 2;
  std::vector<row_outcome> out{outcome(delivered), outcome(passing, "down"),
                               outcome(own, "big"), outcome(delivered)};
  auto r = record_of(cfg, rows, {row_fate::sent, row_fate::retry, row_fate::dead, row_fate::release},
                     out);
  BOOST_TEST(r.sent == std::vector<std::int64_t>{10});
  BOOST_TEST(r.failed.size() == 2u);
  BOOST_TEST(r.failed[0].seq == 11);
  BOOST_TEST(!r.failed[0].dead);
  BOOST_TEST(r.failed[0].backoff.count() == retry_backoff(cfg, 2).count());
  BOOST_TEST(r.failed[0].error == "down");
  BOOST_TEST(r.failed[1].dead);
  BOOST_TEST(r.failed_rows == std::vector<std::size_t>({1, 2}));
  BOOST_TEST(r.dead == 1u);
  BOOST_TEST(r.late == std::vector<std::size_t>{3}); // delivered, yet released
}

BOOST_AUTO_TEST_SUITE_END()
