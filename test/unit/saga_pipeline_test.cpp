// The saga consumer's decisions (actors/saga/saga_pipeline): offsets, per-order chains,
// dispatch slots, retries, the DLQ, revokes and a new client, without Kafka or actors.
#include "actors/saga/saga_pipeline.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace flashsale;

namespace {

using steady = std::chrono::steady_clock;

const std::string topic = "inventory.v1.events";
const std::string order_a = "0b7f3c5e-8d2a-4f61-9c3e-1a2b3c4d5e6f";
const std::string order_b = "1c8a4d6f-9e3b-4a72-8d4f-2b3c4d5e6f70";

kafka::consumed_message message(std::int64_t offset, const std::string& order_id,
                                const std::string& type = "INVENTORY_RESERVED") {
  kafka::consumed_message m;
  m.topic = topic;
  m.partition = 0;
  m.offset = offset;
  m.key = order_id;
  auto event_id = "00000000-0000-4000-8000-" + std::string(12 - std::to_string(offset).size(), '0')
                  + std::to_string(offset);
  m.value = R"({"event_id":")" + event_id + R"(","event_type":")" + type
            + R"(","occurred_at":"2026-01-01T00:00:00.000Z","schema_version":1,)"
            + R"("payload":{"order_id":")" + order_id + R"("}})";
  return m;
}

event_reply answer(event_status s) {
  return {s, order_status::reserved};
}

/// Partition 0's position: its first offset not yet handled (what a commit would say).
std::int64_t position(const saga_pipeline& p) {
  auto c = p.positions();
  return c.empty() ? -1 : c.front().second;
}

struct fixture {
  saga_pipeline p{saga_pipeline_settings{100, 10, {}}};
  steady::time_point now = steady::now();
  fixture() { p.on_assign({{topic, 0}}); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(saga_pipeline_suite)

BOOST_FIXTURE_TEST_CASE(an_event_goes_out_and_its_answer_makes_its_offset_committable, fixture) {
  auto in = p.on_message(message(0, order_a), now);
  BOOST_TEST(in.what == saga_intake::queued);
  BOOST_REQUIRE(in.send.size() == 1u);
  BOOST_TEST(in.send[0].event.order_id == order_a);
  BOOST_TEST(p.in_flight() == 1u);
  BOOST_TEST(position(p) == 0); // nothing handled yet: the position stays
  auto act = p.on_reply(order_a, in.send[0].ticket, answer(event_status::applied), now);
  BOOST_TEST((act.outcome == event_status::applied));
  BOOST_TEST(act.handled_seconds.has_value());
  BOOST_TEST(position(p) == 1);
  BOOST_TEST(p.in_flight() == 0u);
}

BOOST_FIXTURE_TEST_CASE(one_order_s_events_go_one_at_a_time_others_interleave, fixture) {
  auto a0 = p.on_message(message(0, order_a), now);
  auto a1 = p.on_message(message(1, order_a), now);
  auto b2 = p.on_message(message(2, order_b), now);
  BOOST_TEST(a0.send.size() == 1u);
  BOOST_TEST(a1.send.empty()); // waits for a0
  BOOST_TEST(b2.send.size() == 1u);
  // b's answer first: offset 2 done, but 0 and 1 are pending, so nothing to commit.
  p.on_reply(order_b, b2.send[0].ticket, answer(event_status::applied), now);
  BOOST_TEST(position(p) == 0);
  auto next = p.on_reply(order_a, a0.send[0].ticket, answer(event_status::applied), now);
  BOOST_REQUIRE(next.send.size() == 1u);
  BOOST_TEST(next.send[0].event.event_id == message(1, order_a).value.substr(13, 36));
  BOOST_TEST(position(p) == 1);
  p.on_reply(order_a, next.send[0].ticket, answer(event_status::applied), now);
  BOOST_TEST(position(p) == 3);
}

BOOST_FIXTURE_TEST_CASE(a_failed_event_is_retried_with_doubling_backoff_before_its_successors,
                        fixture) {
  auto a0 = p.on_message(message(0, order_a), now);
  p.on_message(message(1, order_a), now);
  auto act = p.on_reply(order_a, a0.send[0].ticket, answer(event_status::failed), now);
  BOOST_TEST(act.send.empty()); // its successor waits
  BOOST_REQUIRE(act.retry_order.has_value());
  BOOST_TEST(act.retry_after.count() == 100);
  auto again = p.on_retry(order_a);
  BOOST_REQUIRE(again.send.size() == 1u);
  BOOST_TEST(again.send[0].event.event_id == a0.send[0].event.event_id);
  act = p.on_reply(order_a, again.send[0].ticket, answer(event_status::failed), now);
  BOOST_TEST(act.retry_after.count() == 200);
  BOOST_TEST(act.attempts == 2);
  BOOST_TEST(position(p) == 0);
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_its_ceiling) {
  retry_backoff b{std::chrono::milliseconds{100}, std::chrono::milliseconds{5000}};
  BOOST_TEST(b.after(1).count() == 100);
  BOOST_TEST(b.after(3).count() == 400);
  BOOST_TEST(b.after(7).count() == 5000);
  BOOST_TEST(b.after(1000).count() == 5000);
}

BOOST_FIXTURE_TEST_CASE(a_rejected_event_goes_to_the_dlq_and_is_done_once_copied, fixture) {
  auto a0 = p.on_message(message(0, order_a), now);
  p.on_message(message(1, order_a), now);
  auto act = p.on_reply(order_a, a0.send[0].ticket, answer(event_status::rejected), now);
  BOOST_REQUIRE(act.dlq.has_value());
  BOOST_TEST(act.dlq->message.offset == 0);
  BOOST_TEST(act.send.size() == 1u); // the order's next event goes ahead
  p.dlq_sent(7, act.dlq->ref, act.dlq->consumed_at);
  BOOST_TEST(position(p) == 0); // not before the copy is acknowledged
  BOOST_TEST(p.dlq_done(7, now).has_value());
  BOOST_TEST(position(p) == 1);
  BOOST_TEST(!p.dlq_done(7, now).has_value()); // once
}

BOOST_FIXTURE_TEST_CASE(poison_goes_to_the_dlq_and_unknown_types_are_done_at_once, fixture) {
  auto m = message(0, order_a);
  m.value = "{not json";
  auto in = p.on_message(m, now);
  BOOST_TEST(in.what == saga_intake::poison);
  BOOST_REQUIRE(in.dlq.has_value());
  BOOST_TEST(!in.dlq->reason.empty());
  auto u = p.on_message(message(1, order_a, "INVENTORY_AUDITED"), now);
  BOOST_TEST(u.what == saga_intake::unknown_type);
  BOOST_TEST(position(p) == 0); // the poison is pending until its copy is acknowledged
  p.dlq_sent(1, in.dlq->ref, now);
  p.dlq_done(1, now);
  BOOST_TEST(position(p) == 2);
}

BOOST_FIXTURE_TEST_CASE(messages_of_unassigned_partitions_are_not_ours, fixture) {
  auto m = message(0, order_a);
  m.partition = 5;
  BOOST_TEST(p.on_message(m, now).what == saga_intake::not_ours);
  p.on_message(message(0, order_a), now);
  BOOST_TEST(p.on_message(message(0, order_a), now).what == saga_intake::not_ours); // pending
}

BOOST_AUTO_TEST_CASE(at_most_max_dispatched_requests_are_out) {
  saga_pipeline p{saga_pipeline_settings{100, 1, {}}};
  auto now = steady::now();
  p.on_assign({{topic, 0}});
  auto a = p.on_message(message(0, order_a), now);
  auto b = p.on_message(message(1, order_b), now);
  BOOST_TEST(a.send.size() == 1u);
  BOOST_TEST(b.send.empty()); // no slot
  auto act = p.on_reply(order_a, a.send[0].ticket, answer(event_status::applied), now);
  BOOST_REQUIRE(act.send.size() == 1u);
  BOOST_TEST(act.send[0].event.order_id == order_b);
}

BOOST_FIXTURE_TEST_CASE(a_revoke_drops_waiting_events_and_the_out_front_at_its_answer, fixture) {
  auto a0 = p.on_message(message(0, order_a), now);
  p.on_message(message(1, order_a), now);
  auto commits = p.commits({{topic, 0}});
  BOOST_REQUIRE(commits.size() == 1u);
  BOOST_TEST(commits[0].second == 0); // offset 0 is not done: read again by the next owner
  p.on_revoke({{topic, 0}});
  BOOST_TEST(p.in_flight() == 0u);
  auto act = p.on_reply(order_a, a0.send[0].ticket, answer(event_status::failed), now);
  BOOST_TEST(!act.retry_order.has_value()); // not ours any more: the next owner reads it
  BOOST_TEST(act.send.empty());
}

// The defect of issue 17: a new client cleared the chains while requests were out, so the
// answer to an old request was taken for the re-consumed copy of its event (committing
// past an event that failed), and the copy went out while the original still was.
BOOST_FIXTURE_TEST_CASE(after_a_restart_an_old_answer_is_not_taken_for_the_reread_copy, fixture) {
  auto first = p.on_message(message(0, order_a), now);
  BOOST_REQUIRE(first.send.size() == 1u);
  p.on_restart();
  p.on_assign({{topic, 0}}); // the new client reads from the committed offset again
  auto copy = p.on_message(message(0, order_a), now);
  BOOST_TEST(copy.what == saga_intake::queued);
  BOOST_TEST(copy.send.empty()); // one request per order: the original is still out
  BOOST_TEST(p.out() == 1u);
  // The original's answer: applied, but for the old client's offset; the copy is not done.
  auto act = p.on_reply(order_a, first.send[0].ticket, answer(event_status::applied), now);
  BOOST_TEST(position(p) == 0);
  BOOST_REQUIRE(act.send.size() == 1u); // now the copy goes
  // The copy fails: it is retried, and nothing is committable past it.
  act = p.on_reply(order_a, act.send[0].ticket, answer(event_status::failed), now);
  BOOST_TEST(act.retry_order.has_value());
  BOOST_TEST(position(p) == 0);
  auto again = p.on_retry(order_a);
  BOOST_REQUIRE(again.send.size() == 1u);
  p.on_reply(order_a, again.send[0].ticket, answer(event_status::applied), now);
  BOOST_TEST(position(p) == 1);
}

BOOST_FIXTURE_TEST_CASE(an_answer_with_a_stale_ticket_changes_nothing, fixture) {
  auto a0 = p.on_message(message(0, order_a), now);
  auto act = p.on_reply(order_a, a0.send[0].ticket + 99, answer(event_status::applied), now);
  BOOST_TEST(act.stale_answer);
  BOOST_TEST(position(p) == 0);
  p.on_reply(order_a, a0.send[0].ticket, answer(event_status::applied), now);
  BOOST_TEST(position(p) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
