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
