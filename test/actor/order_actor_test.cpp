// The order actor's protocol, through its registry, over stub persistence ports on
// CAF's test_coordinator: passivation and reload, a reload after a stale write, and
// one order's commands decided one at a time. Deterministic: the test runs every
// message and moves the clock itself.
#include "actors/order/order_registry.hpp"
#include "messages/clock.hpp"
#include "test/actor/caf_fixture.hpp"
#include "test/actor/persistence_stubs.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>

using namespace flashsale;
using namespace flashsale::test;
using namespace std::chrono_literals;

namespace {

const std::string order_id = "0b7f3c5e-8d2a-4f61-9c3e-1a2b3c4d5e6f";
const std::string user_id = "1c8a4d6f-9e3b-4a72-8d4f-2b3c4d5e6f70";

order row(order_status s) {
  order o;
  o.id = order_id;
  o.user_id = user_id;
  o.status = s;
  o.currency = "EUR";
  o.total_amount = 1000;
  o.items = {{"sku-1", 1, 1000}};
  o.created_at = unix_now_ms() / 1000;
  o.updated_at = o.created_at;
  // Far ahead: the deadline timer stays pending whatever a test does to the clock.
  o.expired_at = o.created_at + 24 * 3600;
  return o;
}

incoming_event event_of(const std::string& type, const std::string& event_id) {
  incoming_event ev;
  ev.event_id = event_id;
  ev.event_type = type;
  ev.order_id = order_id;
  return ev;
}

struct order_fixture : caf_fixture {
  std::shared_ptr<stub_db> db = std::make_shared<stub_db>();
  order_settings settings;
  caf::actor writers;
  order_registry_api registry;

  explicit order_fixture(order_status initial = order_status::created) {
    db->rows[order_id] = row(initial);
    settings.passivate_after = 30s;
    writers = keep(spawn_stub_writer(sys, db));
    auto readers = keep(spawn_stub_reader(sys, db));
    registry = keep(spawn_order_registry(sys, {writers, readers, {}, {}}, settings));
  }

  /// Lets the oldest held-back write answer, and runs what follows.
  void answer_write() {
    caf::anon_send(writers, flush_atom::value);
    run();
  }

  order_reply fetch() {
    auto r = ask<order_reply>(registry, fetch_atom::value, order_id);
    run();
    BOOST_REQUIRE(r->has_value());
    return **r;
  }

  auto cancel() {
    return ask<order_reply>(registry, cancel_atom::value, order_id, std::string{"USER_CANCEL"},
                            std::string{}, std::string{});
  }

  auto deliver(const std::string& type, const std::string& event_id) {
    return ask<event_reply>(registry, event_atom::value, event_of(type, event_id));
  }

  /// Another writer moves the row (a handover): the live actor does not know.
  void change_behind(order_status s) { db->rows[order_id].status = s; }
};

struct reserved_order : order_fixture {
  reserved_order() : order_fixture(order_status::reserved) {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(order_actor_suite)

BOOST_FIXTURE_TEST_CASE(an_idle_actor_passivates_and_the_next_message_reloads_it, order_fixture) {
  BOOST_TEST((fetch().value.status == order_status::created));
  BOOST_TEST(db->loads.size() == 1u);
  change_behind(order_status::reserved);
  advance(settings.passivate_after + 1s); // idle for the whole period: the actor goes
  auto again = fetch();
  BOOST_TEST(db->loads.size() == 2u); // a fresh actor loaded the row
  BOOST_TEST((again.value.status == order_status::reserved));
}

BOOST_FIXTURE_TEST_CASE(a_message_within_the_period_keeps_the_actor, order_fixture) {
  fetch();
  advance(20s);
  fetch(); // activity: the idle period starts again
  change_behind(order_status::reserved);
  advance(11s); // the first check comes 30 s after the start, 10 s after the last command
  auto from_memory = fetch();
  BOOST_TEST(db->loads.size() == 1u);
  BOOST_TEST((from_memory.value.status == order_status::created));
  advance(settings.passivate_after + 1s);
  BOOST_TEST((fetch().value.status == order_status::reserved));
  BOOST_TEST(db->loads.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_stale_write_reloads_and_decides_again, reserved_order) {
  fetch();
  change_behind(order_status::payment_pending);
  auto reply = cancel();
  run();
  BOOST_REQUIRE(reply->has_value());
  BOOST_TEST((*reply)->ok);
  BOOST_TEST(((*reply)->value.status == order_status::cancelled));
  BOOST_TEST(db->loads.size() == 2u); // the reload after the stale answer
  BOOST_REQUIRE(db->writes.size() == 2u);
  BOOST_TEST((db->writes[0].expected == order_status::reserved));        // stale
  BOOST_TEST((db->writes[1].expected == order_status::payment_pending)); // decided again
  BOOST_TEST((db->rows[order_id].status == order_status::cancelled));
}

BOOST_FIXTURE_TEST_CASE(a_stale_write_decided_again_can_end_in_a_refusal, reserved_order) {
  fetch();
  change_behind(order_status::paid);
  auto reply = cancel();
  run();
  BOOST_REQUIRE(reply->has_value());
  BOOST_TEST(!(*reply)->ok);
  BOOST_TEST(((*reply)->error.code == error_code::order_invalid_state));
  BOOST_TEST(db->writes.size() == 1u); // nothing written after the reload
  BOOST_TEST((fetch().value.status == order_status::paid)); // memory is the row again
}

BOOST_FIXTURE_TEST_CASE(a_write_stale_again_and_again_gives_up_busy, reserved_order) {
  fetch();
  db->scripted.assign(4, write_status::stale);
  auto reply = cancel();
  run();
  BOOST_REQUIRE(reply->has_value());
  BOOST_TEST(!(*reply)->ok);
  BOOST_TEST(((*reply)->error.code == error_code::unavailable));
  BOOST_TEST(db->writes.size() == 4u); // the first try and three more
  BOOST_TEST(db->loads.size() == 4u);  // the first load and one after each retried stale
}

BOOST_FIXTURE_TEST_CASE(one_order_s_interleaved_commands_are_decided_one_at_a_time,
                        order_fixture) {
  fetch();
  db->hold_answers = true;
  auto event = deliver("INVENTORY_RESERVED", "00000000-0000-4000-8000-000000000001");
  auto cancelled = cancel();
  run();
  // The event's write is out: the cancel waits in the mailbox, undecided.
  BOOST_TEST(db->writes.size() == 1u);
  BOOST_TEST(!event->has_value());
  BOOST_TEST(!cancelled->has_value());

  answer_write();
  // The event applied; only now is the cancel decided, from the state it left.
  BOOST_REQUIRE(event->has_value());
  BOOST_TEST(((*event)->status == event_status::applied));
  BOOST_REQUIRE(db->writes.size() == 2u);
  BOOST_TEST((db->writes[1].expected == order_status::reserved));
  BOOST_TEST((db->writes[1].next == order_status::cancelled));
  BOOST_TEST(!cancelled->has_value());

  answer_write();
  BOOST_REQUIRE(cancelled->has_value());
  BOOST_TEST(((*cancelled)->value.status == order_status::cancelled));
  BOOST_TEST(db->loads.size() == 1u); // no stale write on the way
}

BOOST_AUTO_TEST_SUITE_END()
