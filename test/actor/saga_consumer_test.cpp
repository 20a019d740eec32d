// The saga consumer actor (actors/saga/kafka_consumer.cpp) over stub ports on CAF's
// test_coordinator: a restart while a request is out (issue 17), one order's events
// one at a time under interleaved answers, a retry after its backoff, and poison copied
// to the DLQ. Deterministic: consume steps and retries are timers the test moves the
// clock past, and every answer of the orders comes when the test releases it.
#include "test/actor/saga_consumer_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace flashsale;
using namespace flashsale::test;
using namespace std::chrono_literals;

namespace {

const partition_id shard0{saga_topic, 0};
const std::string order_x = "0b7f3c5e-8d2a-4f61-9c3e-1a2b3c4d5e6f";
const std::string order_y = "1c8a4d6f-9e3b-4a72-8d4f-2b3c4d5e6f70";

} // namespace

BOOST_AUTO_TEST_SUITE(saga_consumer_actor_suite)

namespace {

/// Issue 17: A (order X, offset 10) is out at the orders when librdkafka refuses an
/// assign and the consumer makes a new client, which reads A again. The old request's
/// answer (`old`) must not complete the copy: the copy goes out once, after it, and
/// only the copy's own answer moves the commit past offset 10. The old request keeps
/// its place at its order's front across the restart, so its answer is matched to it
/// by its ticket (its own, not a stale one) and only clears the way for the copy.
void restart_with_the_old_answer(consumer_fixture& f, event_status old) {
  f.deliver(message(10, order_x));
  BOOST_REQUIRE(f.orders->requests.size() == 1u);

  f.kafka->clients.back()->assignment_ok = false;
  f.advance(f.settings.poll_wait); // the step sees it: the client is closed
  BOOST_TEST(f.kafka->clients.back()->closed);
  f.advance(f.settings.restart_pause); // the next step makes a new client
  BOOST_REQUIRE(f.kafka->clients.size() == 2u);
  BOOST_TEST(f.kafka->clients.back()->added.size() == f.settings.topics.size());

  f.deliver(message(10, order_x)); // the new client reads A again from the committed 10
  BOOST_TEST(f.orders->requests.size() == 1u); // the copy waits for the request still out

  f.answer(0, old);
  BOOST_REQUIRE(f.orders->requests.size() == 2u); // now the copy goes, once
  BOOST_TEST(f.event_sent(1) == event_id_of(10));
  BOOST_TEST(f.count("saga_event_retries_total") == 0u); // the old answer arms nothing
  BOOST_TEST(f.count("saga_event_stale_answers_total") == 0u);
  BOOST_TEST(f.committed_after_a_round() <= 10);
  f.advance(f.settings.retry_max); // any retry armed by mistake would fire by now
  BOOST_TEST(f.orders->requests.size() == 2u);
  BOOST_TEST(f.committed_after_a_round() <= 10);

  f.answer(1, event_status::applied);
  BOOST_TEST(f.committed_after_a_round() == 11);
  BOOST_TEST(f.orders->requests.size() == 2u);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(after_a_restart_an_old_failed_answer_does_not_count_for_the_copy,
                        consumer_fixture) {
  restart_with_the_old_answer(*this, event_status::failed);
}

BOOST_FIXTURE_TEST_CASE(after_a_restart_an_old_applied_answer_does_not_count_for_the_copy,
                        consumer_fixture) {
  restart_with_the_old_answer(*this, event_status::applied);
}

BOOST_FIXTURE_TEST_CASE(one_order_s_events_wait_for_its_answers_and_commits_for_every_offset,
                        consumer_fixture) {
  kafka->clients.back()->script = {message(20, order_x), message(21, order_x),
                                   message(22, order_y)};
  advance(settings.poll_wait);
  BOOST_REQUIRE(orders->requests.size() == 2u); // X's first and Y's; X's second waits
  BOOST_TEST(event_sent(0) == event_id_of(20));
  BOOST_TEST(event_sent(1) == event_id_of(22));

  answer(1, event_status::applied); // Y first: 22 is done, 20 and 21 are not
  BOOST_TEST(orders->requests.size() == 2u);
  BOOST_TEST(committed_after_a_round() <= 20);

  answer(0, event_status::applied); // X's first: only now its second goes
  BOOST_REQUIRE(orders->requests.size() == 3u);
  BOOST_TEST(event_sent(2) == event_id_of(21));
  BOOST_TEST(committed_after_a_round() == 21);

  answer(2, event_status::applied);
  BOOST_TEST(committed_after_a_round() == 23);
  BOOST_TEST(count("saga_events_handled_total", {{"outcome", "applied"}}) == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_failed_answer_is_retried_after_its_backoff, consumer_fixture) {
  deliver(message(40, order_x));
  answer(0, event_status::failed);
  BOOST_TEST(count("saga_event_retries_total") == 1u);
  advance(settings.retry_base - 1ms);
  BOOST_TEST(orders->requests.size() == 1u); // not before the backoff
  BOOST_TEST(kafka->committed(shard0) <= 40);
  advance(1ms);
  BOOST_REQUIRE(orders->requests.size() == 2u); // the same event, again
  BOOST_TEST(event_sent(1) == event_id_of(40));

  answer(1, event_status::applied);
  BOOST_TEST(committed_after_a_round() == 41);
}

BOOST_FIXTURE_TEST_CASE(poison_is_copied_to_the_dlq_and_committed_after_its_delivery,
                        consumer_fixture) {
  auto poison = message(30, order_x);
  poison.value = "{not json";
  deliver(poison);
  BOOST_TEST(orders->requests.empty());
  BOOST_REQUIRE(kafka->dlq.size() == 1u);
  BOOST_TEST(kafka->dlq[0].first.value == poison.value);
  BOOST_TEST(kafka->dlq[0].first.offset == 30);
  BOOST_TEST(!kafka->dlq[0].second.empty()); // the reason
  BOOST_TEST(committed_after_a_round() <= 30); // not before the DLQ has it

  kafka->dlq_acks.push_back(1);
  BOOST_TEST(committed_after_a_round() == 31);
  BOOST_TEST(count("saga_events_dlq_total") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
