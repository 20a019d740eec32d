// Failure paths on a real PostgreSQL (issue 11): an order actor whose reload fails does
// not stay broken; one command the database rejects does not fail its whole batch.

#include "actors/order/db_actors.hpp"
#include "actors/order/order_registry.hpp"
#include "actors/protocol.hpp"
#include "http/requests.hpp"
#include "messages/clock.hpp"
#include "messages/uuid.hpp"
#include "persistence/order_repository.hpp"
#include "test_db.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <memory>

using namespace flashsale;
using namespace std::chrono_literals;

namespace {

create_command command_for(const std::string& user, const std::string& key,
                           const std::string& sku = "sku-1") {
  create_order_request r;
  r.user_id = user;
  r.currency = "EUR";
  r.items = {{sku, 2, 500}};
  r.total_amount = 1000;
  return http::make_create_command(r, key, unix_now_ms(), 300s);
}

std::int64_t count(const std::string& url, const std::string& sql) {
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  return tx.exec1(sql)[0].as<std::int64_t>();
}

void exec(const std::string& url, const std::string& sql) {
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  tx.exec(sql);
}

/// A reader that fails on purpose: the next `failures` loads answer "failed" as a
/// reader does when the database is unavailable; the others go to the real readers.
caf::behavior failing_reader(caf::event_based_actor* self, caf::actor readers,
                             std::shared_ptr<std::atomic<int>> failures) {
  return {
    [=](load_atom a, const std::string& id) -> caf::result<load_reply> {
      if (failures->load() > 0) {
        --*failures;
        load_reply r;
        r.failed = true;
        r.error = {error_code::unavailable, "failing on purpose"};
        return r;
      }
      auto rp = self->make_response_promise<load_reply>();
      rp.delegate(readers, a, id);
      return rp;
    },
  };
}

struct reload_fixture {
  std::string url = test::fresh_database();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::actor writers = spawn_db_writers(sys, url, 1, 64);
  caf::actor readers = spawn_db_readers(sys, url, 1);
  std::shared_ptr<std::atomic<int>> failures = std::make_shared<std::atomic<int>>(0);
  caf::actor reader = sys.spawn(failing_reader, readers, failures);
  // Asked with prepared messages here: the untyped handle.
  caf::actor registry = caf::actor_cast<caf::actor>(
    spawn_order_registry(sys, {writers, reader, {}, {}}, order_settings{}));
  caf::scoped_actor self{sys};

  ~reload_fixture() {
    for (auto& a : {registry, reader, readers, writers})
      self->send_exit(a, caf::exit_reason::user_shutdown);
  }

  std::string create(const std::string& user) {
    std::string id;
    self->request(writers, 10s, create_atom::value, command_for(user, "key-1"))
      .receive([&](create_outcome& o) { id = o.stored.id; },
               [&](caf::error& e) { BOOST_FAIL("create failed: " << sys.render(e)); });
    return id;
  }

  order_reply ask(caf::message msg) {
    order_reply out;
    self->request(registry, 10s, std::move(msg))
      .receive([&](order_reply& r) { out = std::move(r); },
               [&](caf::error& e) { BOOST_FAIL("registry failed: " << sys.render(e)); });
    return out;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(order_reload)

// A write finds the row changed (another writer), the reload fails: that command is
// answered 503, and the next message for the order starts fresh instead of answering
// the same failure forever.
BOOST_FIXTURE_TEST_CASE(failed_reload_ends_the_actor_and_the_next_message_starts_fresh,
                        reload_fixture) {
  auto id = create(new_uuid());
  BOOST_REQUIRE(!id.empty());
  auto first = ask(caf::make_message(fetch_atom::value, id));
  BOOST_REQUIRE(first.ok);
  BOOST_REQUIRE(first.value.status == order_status::created); // the actor holds CREATED

  exec(url, "UPDATE orders SET status = 'RESERVED' WHERE id = '" + id + "'");
  failures->store(1);
  auto cancelled = ask(caf::make_message(cancel_atom::value, id, std::string{"USER_CANCEL"},
                                         std::string{}, std::string{}));
  BOOST_CHECK(!cancelled.ok);
  BOOST_CHECK(cancelled.error.code == error_code::unavailable);
  BOOST_CHECK_EQUAL(failures->load(), 0); // the reload went to the failing reader

  auto after = ask(caf::make_message(fetch_atom::value, id));
  BOOST_CHECK_MESSAGE(after.ok, "the order stays unavailable after one failed reload: "
                                  << after.error.message);
  BOOST_CHECK(after.value.status == order_status::reserved);
  auto again = ask(caf::make_message(cancel_atom::value, id, std::string{"USER_CANCEL"},
                                     std::string{}, std::string{}));
  BOOST_CHECK(again.ok);
  BOOST_CHECK(again.value.status == order_status::cancelled);
}

// The first load fails: the actor ends, the next message loads again.
BOOST_FIXTURE_TEST_CASE(failed_first_load_is_retried_by_the_next_message, reload_fixture) {
  auto id = create(new_uuid());
  failures->store(1);
  auto first = ask(caf::make_message(fetch_atom::value, id));
  BOOST_CHECK(!first.ok);
  BOOST_CHECK(first.error.code == error_code::unavailable);
  auto second = ask(caf::make_message(fetch_atom::value, id));
  BOOST_CHECK(second.ok);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

write_command cancel_write(const std::string& id, std::int64_t now) {
  write_command cmd;
  cmd.order_id = id;
  cmd.expected = order_status::created;
  cmd.next = order_status::cancelled;
  cmd.reason = "USER_CANCEL";
  cmd.now_ms = now;
  cmd.event = make_order_cancelled(id, "USER_CANCEL", now);
  return cmd;
}

/// Bytes that are no UTF-8: PostgreSQL rejects them in any text column (SQLSTATE 22021).
const std::string invalid_utf8 = "bad-\xff\xfe";

} // namespace

BOOST_AUTO_TEST_SUITE(write_batch_isolation)

BOOST_AUTO_TEST_CASE(a_create_the_database_rejects_fails_alone_the_others_commit) {
  auto url = test::fresh_database();
  auto user = new_uuid();
  auto good1 = command_for(user, "k1"), bad = command_for(user, "k2", invalid_utf8),
       good2 = command_for(user, "k3"), good3 = command_for(user, "k4");
  pqxx::connection conn{url};
  std::vector<create_outcome> out;
  try {
    out = persistence::create_orders(conn, {&good1, &bad, &good2, &good3});
  } catch (const std::exception& e) {
    BOOST_FAIL("the batch failed as a whole: " << e.what());
  }
  BOOST_REQUIRE_EQUAL(out.size(), 4u);
  BOOST_CHECK(out[0].status == create_status::created);
  BOOST_CHECK(out[1].status == create_status::failed);
  BOOST_CHECK(out[1].error.code == error_code::validation_failed); // 400, not 503/500
  BOOST_CHECK(out[2].status == create_status::created);
  BOOST_CHECK(out[3].status == create_status::created);
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM orders"), 3);
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM order_items"), 3);
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM outbox_events"), 3);
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM orders WHERE id = '" + bad.fresh.id + "'"),
                    0);
  // The same batch again: the good ones replay, the bad one is rejected again.
  out = persistence::create_orders(conn, {&good1, &bad, &good2});
  BOOST_CHECK(out[0].status == create_status::replayed);
  BOOST_CHECK(out[1].status == create_status::failed);
  BOOST_CHECK(out[2].status == create_status::replayed);
}

BOOST_AUTO_TEST_CASE(a_write_the_database_rejects_fails_alone_the_others_commit) {
  auto url = test::fresh_database();
  auto user = new_uuid();
  std::vector<create_command> creates;
  for (int i = 0; i < 5; ++i)
    creates.push_back(command_for(user, "k" + std::to_string(i)));
  pqxx::connection conn{url};
  std::vector<const create_command*> ptrs;
  for (auto& c : creates)
    ptrs.push_back(&c);
  persistence::create_orders(conn, ptrs);
  std::vector<write_command> writes;
  for (auto& c : creates)
    writes.push_back(cancel_write(c.fresh.id, unix_now_ms()));
  writes[2].event->envelope = invalid_utf8; // its outbox row cannot be stored
  std::vector<const write_command*> wptrs;
  for (auto& w : writes)
    wptrs.push_back(&w);
  std::vector<write_outcome> out;
  try {
    out = persistence::write_orders(conn, wptrs);
  } catch (const std::exception& e) {
    BOOST_FAIL("the batch failed as a whole: " << e.what());
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == 2) {
      BOOST_CHECK(out[i].status == write_status::failed);
      BOOST_CHECK(out[i].error.code == error_code::validation_failed);
    } else {
      BOOST_CHECK_MESSAGE(out[i].status == write_status::applied, "write " << i);
    }
  }
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM orders WHERE status = 'CANCELLED'"), 4);
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM orders WHERE status = 'CREATED' AND id = '"
                                 + creates[2].fresh.id + "'"),
                    1);
  BOOST_CHECK_EQUAL(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                               "'ORDER_CANCELLED'"),
                    4);
}

// Through the writer actor and an order actor: a saga event whose write the database
// rejects is answered `rejected` (for the DLQ), not `failed` (redelivered forever).
BOOST_FIXTURE_TEST_CASE(a_rejected_event_write_is_answered_rejected, reload_fixture) {
  auto id = create(new_uuid());
  auto cancelled = ask(caf::make_message(cancel_atom::value, id, std::string{"USER_CANCEL"},
                                         std::string{}, std::string{}));
  BOOST_REQUIRE(cancelled.ok);
  incoming_event ev; // a payment for a cancelled order: ORDER_PAYMENT_REJECTED carries the id
  ev.event_id = new_uuid();
  ev.event_type = "PAYMENT_SUCCEEDED";
  ev.order_id = id;
  ev.payment_intent_id = invalid_utf8;
  event_reply reply;
  self->request(registry, 10s, event_atom::value, ev)
    .receive([&](event_reply& r) { reply = r; },
             [&](caf::error& e) { BOOST_FAIL("registry failed: " << sys.render(e)); });
  BOOST_CHECK(reply.status == event_status::rejected);
}

BOOST_AUTO_TEST_SUITE_END()
