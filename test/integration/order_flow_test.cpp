// Orders through the actors and the repository, on a real PostgreSQL.

#include "actors/order/db_actors.hpp"
#include "actors/order/order_registry.hpp"
#include "actors/protocol.hpp"
#include "http/requests.hpp"
#include "messages/clock.hpp"
#include "messages/uuid.hpp"
#include "persistence/expiry_repository.hpp"
#include "persistence/order_repository.hpp"
#include "test_db.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <set>
#include <thread>

using namespace flashsale;
using namespace std::chrono_literals;

namespace {

create_order_request sample_request(const std::string& user, minor_units price = 1250) {
  create_order_request r;
  r.user_id = user;
  r.currency = "EUR";
  r.items = {{"sku-1", 2, price}, {"sku-2", 1, 100}};
  r.total_amount = 2 * price + 100;
  return r;
}

create_command sample_command(const std::string& user, const std::string& key,
                              minor_units price = 1250) {
  return http::make_create_command(sample_request(user, price), key, unix_now_ms(), 300s);
}

std::int64_t count(const std::string& url, const std::string& sql) {
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  return tx.exec1(sql)[0].as<std::int64_t>();
}

/// An actor system with the persistence actors and the registry on a fresh database.
struct actor_fixture {
  std::string url = test::fresh_database();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::actor writers = spawn_db_writers(sys, url, 2, 64);
  caf::actor readers = spawn_db_readers(sys, url, 2);
  // Asked with prepared messages here: the untyped handle.
  caf::actor registry = caf::actor_cast<caf::actor>(
    spawn_order_registry(sys, {writers, readers, {}, {}}, order_settings{}));
  caf::scoped_actor self{sys};

  ~actor_fixture() {
    for (auto& a : {registry, readers, writers})
      self->send_exit(a, caf::exit_reason::user_shutdown);
  }

  create_outcome create(const create_command& cmd) {
    create_outcome out;
    self->request(writers, 10s, create_atom::value, cmd)
      .receive([&](create_outcome& o) { out = std::move(o); },
               [&](caf::error& e) { BOOST_FAIL("create failed: " << sys.render(e)); });
    return out;
  }

  order_reply ask_registry(caf::message msg) {
    order_reply out;
    self->request(registry, 10s, std::move(msg))
      .receive([&](order_reply& r) { out = std::move(r); },
               [&](caf::error& e) { BOOST_FAIL("registry failed: " << sys.render(e)); });
    return out;
  }

  order_reply fetch(const std::string& id) {
    return ask_registry(caf::make_message(fetch_atom::value, id));
  }

  event_reply deliver(const std::string& id, const std::string& type,
                      const std::string& event_id = new_uuid()) {
    incoming_event ev;
    ev.event_id = event_id;
    ev.event_type = type;
    ev.order_id = id;
    ev.payment_intent_id = "pi-1";
    return ask_event(caf::make_message(event_atom::value, ev));
  }

  event_reply expire(const std::string& id) {
    return ask_event(caf::make_message(expire_atom::value, id));
  }

  event_reply ask_event(caf::message msg) {
    event_reply out;
    self->request(registry, 10s, std::move(msg))
      .receive([&](event_reply& r) { out = r; },
               [&](caf::error& e) { BOOST_FAIL("registry failed: " << sys.render(e)); });
    return out;
  }

  order_reply cancel(const std::string& id, const std::string& user = "") {
    return ask_registry(
      caf::make_message(cancel_atom::value, id, std::string{"USER_CANCEL"}, user, std::string{}));
  }

  /// Moves the order's deadline into the past, then has a fresh actor expire it: the live
  /// actor holds the old deadline, a fresh one (after passivation, a restart) reads the
  /// new one, so the ask goes through a second registry. The order as that actor then
  /// answers a fetch comes back in `after`.
  event_reply expire_past_deadline(const std::string& id, order_reply* after = nullptr) {
    {
      pqxx::connection c{url};
      pqxx::work tx{c};
      tx.exec("UPDATE orders SET expired_at = now() - interval '1 second' WHERE id = "
              + tx.quote(id));
      tx.commit();
    }
    auto fresh = spawn_order_registry(sys, {writers, readers, {}, {}}, order_settings{});
    event_reply r;
    self->request(fresh, 10s, expire_atom::value, id)
      .receive([&](event_reply& x) { r = x; }, [&](caf::error&) { BOOST_FAIL("no reply"); });
    if (after)
      self->request(fresh, 10s, fetch_atom::value, id)
        .receive([&](order_reply& x) { *after = x; }, [&](caf::error&) { BOOST_FAIL("no reply"); });
    self->send_exit(fresh, caf::exit_reason::user_shutdown);
    return r;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(order_flow)

BOOST_FIXTURE_TEST_CASE(create_commits_order_items_and_event_together, actor_fixture) {
  auto user = new_uuid();
  auto out = create(sample_command(user, "key-1"));
  BOOST_REQUIRE(out.status == create_status::created);
  const auto& id = out.stored.id;
  BOOST_TEST(count(url, "SELECT count(*) FROM orders WHERE id = '" + id + "'") == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM order_items WHERE order_id = '" + id + "'") == 2);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE aggregate_id = '" + id
                          + "' AND event_type = 'ORDER_CREATED' AND status = 'PENDING'")
             == 1);
  auto got = fetch(id);
  BOOST_REQUIRE(got.ok);
  BOOST_TEST(got.value.user_id == user);
  BOOST_TEST(got.value.total_amount == 2600);
  BOOST_TEST(got.value.items.size() == 2u);
  BOOST_TEST(got.value.items[0].sku_id == "sku-1");
  BOOST_TEST((got.value.status == order_status::created));
  BOOST_TEST(got.value.expired_at.has_value());
}

BOOST_FIXTURE_TEST_CASE(same_key_same_body_replays_and_other_body_is_refused, actor_fixture) {
  auto user = new_uuid();
  auto first = create(sample_command(user, "k"));
  auto again = create(sample_command(user, "k"));
  auto other = create(sample_command(user, "k", 999));
  auto other_user = create(sample_command(new_uuid(), "k"));
  BOOST_REQUIRE(first.status == create_status::created);
  BOOST_TEST((again.status == create_status::replayed));
  BOOST_TEST(again.stored.id == first.stored.id);
  BOOST_TEST(again.stored.items.size() == 2u);
  BOOST_TEST((other.status == create_status::key_reused));
  BOOST_TEST((other_user.status == create_status::created));
  BOOST_TEST(count(url, "SELECT count(*) FROM orders") == 2);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events") == 2);
}

// CONTRACT §3: a replay answers the first answer's body, the order as created, not as
// it is now (issue 12: a replay after a cancel answered CANCELLED).
BOOST_FIXTURE_TEST_CASE(replay_answers_the_order_as_created_whatever_happened_since,
                        actor_fixture) {
  auto user = new_uuid();
  auto first = create(sample_command(user, "k"));
  BOOST_REQUIRE(first.status == create_status::created);
  const auto& id = first.stored.id;
  // Time moves on: the cancel's updated_at is a later second than created_at.
  pqxx::connection c{url};
  pqxx::nontransaction{c}.exec("UPDATE orders SET created_at = created_at - interval '10 s', "
                               "created_expired_at = created_expired_at - interval '10 s', "
                               "expired_at = expired_at - interval '10 s' WHERE id = '" + id + "'");
  auto first_body = [&] {
    order o = first.stored;
    o.created_at -= 10;
    o.updated_at -= 10;
    *o.expired_at -= 10;
    return order_response_json(o);
  }();
  BOOST_REQUIRE(cancel(id).ok);
  auto now = fetch(id);
  BOOST_REQUIRE(now.ok);
  BOOST_REQUIRE((now.value.status == order_status::cancelled));
  BOOST_REQUIRE(now.value.updated_at > now.value.created_at);

  auto again = create(sample_command(user, "k"));
  BOOST_REQUIRE((again.status == create_status::replayed));
  BOOST_TEST(order_response_json(again.stored) == first_body);
  BOOST_TEST((again.stored.status == order_status::created));
  BOOST_TEST(again.stored.reason.empty());
}

// CONTRACT §3 "Overload": a create whose client has had its 503 (the bridge's
// deadline passed) leaves no order; a retry with the same key creates exactly one.
BOOST_FIXTURE_TEST_CASE(a_create_past_its_deadline_is_dropped_uncommitted, actor_fixture) {
  auto user = new_uuid();
  auto late = sample_command(user, "late");
  late.commit_by_ms = unix_now_ms() - 1;
  auto out = create(late);
  BOOST_TEST((out.status == create_status::failed));
  BOOST_TEST(to_string(out.error.code) == "UNAVAILABLE");
  BOOST_TEST(count(url, "SELECT count(*) FROM orders") == 0);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events") == 0);
  auto retry = sample_command(user, "late");
  retry.commit_by_ms = unix_now_ms() + 10000;
  BOOST_TEST((create(retry).status == create_status::created));
  BOOST_TEST(count(url, "SELECT count(*) FROM orders") == 1);
}

BOOST_FIXTURE_TEST_CASE(concurrent_duplicates_resolve_to_one_order, actor_fixture) {
  auto user = new_uuid();
  constexpr int n = 64;
  for (int i = 0; i < n; ++i) // each request gets its own id: the constraint must arbitrate
    self->send(writers, create_atom::value, sample_command(user, "same-key"));
  std::set<std::string> ids;
  int created = 0;
  int received = 0;
  self->receive_for(received, n)([&](create_outcome& o) {
    BOOST_TEST((o.status == create_status::created || o.status == create_status::replayed));
    created += o.status == create_status::created;
    ids.insert(o.stored.id);
  });
  BOOST_TEST(created == 1);
  BOOST_TEST(ids.size() == 1u);
  BOOST_TEST(count(url, "SELECT count(*) FROM orders WHERE user_id = '" + user + "'") == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM order_items") == 2);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events") == 1);
}

BOOST_FIXTURE_TEST_CASE(crossing_duplicate_keys_in_two_writers_never_fail, actor_fixture) {
  auto user = new_uuid();
  constexpr int keys = 100;
  // The pool alternates between its two writers: one gets the keys ascending, the
  // other the same keys descending, in batches that commit at the same time.
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < keys; ++i) {
      self->send(writers, create_atom::value, sample_command(user, "x" + std::to_string(i)));
      self->send(writers, create_atom::value,
                 sample_command(user, "x" + std::to_string(keys - 1 - i)));
    }
  int failed = 0;
  int received = 0;
  self->receive_for(received, 6 * keys)([&](create_outcome& o) {
    failed += o.status != create_status::created && o.status != create_status::replayed;
  });
  BOOST_TEST(failed == 0);
  BOOST_TEST(count(url, "SELECT count(*) FROM orders") == keys);
}

BOOST_FIXTURE_TEST_CASE(cancel_emits_event_and_is_idempotent, actor_fixture) {
  auto user = new_uuid();
  auto id = create(sample_command(user, "c")).stored.id;
  auto denied = cancel(id, new_uuid());
  BOOST_TEST(!denied.ok);
  BOOST_TEST((denied.error.code == error_code::forbidden));
  auto first = cancel(id, user);
  BOOST_REQUIRE(first.ok);
  BOOST_TEST((first.value.status == order_status::cancelled));
  BOOST_TEST(first.value.reason == "USER_CANCEL");
  BOOST_TEST(!first.value.expired_at.has_value());
  auto second = cancel(id);
  BOOST_REQUIRE(second.ok);
  BOOST_TEST((second.value.status == order_status::cancelled));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE aggregate_id = '" + id
                          + "' AND event_type = 'ORDER_CANCELLED'")
             == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM orders WHERE id = '" + id
                          + "' AND status = 'CANCELLED' AND reason = 'USER_CANCEL'")
             == 1);
}

BOOST_FIXTURE_TEST_CASE(cancel_of_paid_or_unknown_order_is_refused, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "p")).stored.id;
  {
    pqxx::connection c{url};
    pqxx::work tx{c};
    tx.exec("UPDATE orders SET status = 'PAID', expired_at = NULL WHERE id = '" + id + "'");
    tx.commit();
  }
  // The actor's loaded state says CREATED: the guarded write sees PAID, reloads, refuses.
  auto r = cancel(id);
  BOOST_TEST(!r.ok);
  BOOST_TEST((r.error.code == error_code::order_invalid_state));
  auto missing = cancel(new_uuid());
  BOOST_TEST(!missing.ok);
  BOOST_TEST((missing.error.code == error_code::order_not_found));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = 'ORDER_CANCELLED'")
             == 0);
}

BOOST_FIXTURE_TEST_CASE(saga_events_move_the_order_to_paid_once, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "s")).stored.id;
  auto reserved_id = new_uuid();
  BOOST_TEST((deliver(id, "INVENTORY_RESERVED", reserved_id).status == event_status::applied));
  // Redelivered after it took effect: the state machine already refuses it.
  BOOST_TEST((deliver(id, "INVENTORY_RESERVED", reserved_id).status == event_status::ignored));
  BOOST_TEST((deliver(id, "INVENTORY_RELEASED").status == event_status::ignored));
  BOOST_TEST((deliver(id, "PAYMENT_INTENT_CREATED").status == event_status::applied));
  auto paid = deliver(id, "PAYMENT_SUCCEEDED");
  BOOST_TEST((paid.status == event_status::applied));
  BOOST_TEST((paid.current == order_status::paid));
  BOOST_TEST((fetch(id).value.status == order_status::paid));
  BOOST_TEST(!fetch(id).value.expired_at.has_value());
  BOOST_TEST(count(url, "SELECT count(*) FROM processed_events") == 3);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = 'ORDER_PAID'")
             == 1);
  BOOST_TEST((deliver(new_uuid(), "INVENTORY_RESERVED").status == event_status::not_found));
}

BOOST_FIXTURE_TEST_CASE(late_payment_after_cancel_is_rejected_for_refund, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "r")).stored.id;
  deliver(id, "INVENTORY_RESERVED");
  deliver(id, "PAYMENT_INTENT_CREATED");
  BOOST_REQUIRE(cancel(id).ok);
  auto payment = new_uuid();
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED", payment).status
              == event_status::payment_rejected));
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED", payment).status == event_status::duplicate));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                        "'ORDER_PAYMENT_REJECTED' AND payload LIKE '%ORDER_CANCELLED%'")
             == 1);
  BOOST_TEST((fetch(id).value.status == order_status::cancelled));
}

// -- events that come before their order can take them (CONTRACT §5, issue 11 item 2)

BOOST_FIXTURE_TEST_CASE(early_payment_is_held_and_applies_once_its_intent_did, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "h")).stored.id;
  auto early = new_uuid();
  auto held = deliver(id, "PAYMENT_SUCCEEDED", early);
  BOOST_TEST((held.status == event_status::held));
  BOOST_TEST((held.current == order_status::created));
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED", early).status == event_status::duplicate));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events WHERE order_id = '" + id + "'") == 1);
  BOOST_TEST((deliver(id, "INVENTORY_RESERVED").status == event_status::applied));
  // RESERVED: the payment still waits for its intent.
  BOOST_TEST((fetch(id).value.status == order_status::reserved));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 1);
  BOOST_TEST((deliver(id, "PAYMENT_INTENT_CREATED").status == event_status::applied));
  BOOST_TEST((fetch(id).value.status == order_status::paid)); // replayed before the fetch
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 0);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = 'ORDER_PAID'") == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM processed_events") == 3);
  // Redelivered once PAID: the state machine refuses it before the inbox is asked.
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED", early).status == event_status::ignored));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = 'ORDER_PAID'") == 1);
}

BOOST_FIXTURE_TEST_CASE(early_intent_and_payment_replay_in_the_order_they_came, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "o")).stored.id;
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED").status == event_status::held));
  BOOST_TEST((deliver(id, "PAYMENT_INTENT_CREATED").status == event_status::held));
  // One reservation: the intent applies (PAYMENT_PENDING), then the payment (PAID).
  BOOST_TEST((deliver(id, "INVENTORY_RESERVED").status == event_status::applied));
  BOOST_TEST((fetch(id).value.status == order_status::paid));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 0);
}

BOOST_FIXTURE_TEST_CASE(early_payment_of_a_cancelled_order_is_rejected, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "c")).stored.id;
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED").status == event_status::held));
  BOOST_TEST((deliver(id, "PAYMENT_FAILED").status == event_status::held));
  BOOST_REQUIRE(cancel(id).ok);
  BOOST_TEST((fetch(id).value.status == order_status::cancelled));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                        "'ORDER_PAYMENT_REJECTED' AND payload LIKE '%ORDER_CANCELLED%' "
                        "AND payload LIKE '%\"payment_intent_id\":\"pi-1\"%'")
             == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 0); // the failure: no effect
}

BOOST_FIXTURE_TEST_CASE(early_payment_of_an_expired_order_is_rejected, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "x")).stored.id;
  deliver(id, "INVENTORY_RESERVED");
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED").status == event_status::held));
  order_reply after;
  auto r = expire_past_deadline(id, &after);
  BOOST_TEST((r.status == event_status::applied));
  BOOST_TEST((after.value.status == order_status::expired));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                        "'ORDER_PAYMENT_REJECTED' AND payload LIKE '%ORDER_EXPIRED%'")
             == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 0);
}

namespace {

/// The order as a fresh actor loads it from its row: what a GET answers after the
/// order's actor passivated.
order reloaded(actor_fixture& f, const std::string& id) {
  auto fresh = spawn_order_registry(f.sys, {f.writers, f.readers, {}, {}}, order_settings{});
  order_reply out;
  f.self->request(fresh, 10s, fetch_atom::value, id)
    .receive([&](order_reply& x) { out = std::move(x); },
             [&](caf::error& e) { BOOST_FAIL("no reply: " << f.sys.render(e)); });
  f.self->send_exit(fresh, caf::exit_reason::user_shutdown);
  BOOST_REQUIRE(out.ok);
  return out.value;
}

/// Waits until the wall clock is in the second half of a second, so that a write now
/// falls on a fraction that rounding and truncation would tell apart.
void wait_for_late_in_a_second() {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (unix_now_ms() % 1000 < 500 || unix_now_ms() % 1000 > 800) {
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(5ms);
  }
}

/// Waits until the wall clock has passed `second` (Unix seconds).
void wait_until_after(std::int64_t second) {
  while (unix_now_ms() / 1000 <= second)
    std::this_thread::sleep_for(10ms);
}

} // namespace

// Issue 22: a write that changes no column (a hold, the release of a held event, a
// payment rejection) left the row's updated_at alone but moved the actor's, so a GET
// showed a change of the order that a reload took back. updated_at moves only with a
// change of the order, and memory and the row agree, also to the second.
BOOST_FIXTURE_TEST_CASE(updated_at_in_memory_is_the_rows_whatever_the_write, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "u")).stored.id;
  // Created a minute ago (before its actor loads it): a write now that moved
  // updated_at would show.
  pqxx::connection c{url};
  pqxx::nontransaction{c}.exec("UPDATE orders SET created_at = created_at - interval '60 s', "
                               "updated_at = updated_at - interval '60 s' WHERE id = '" + id + "'");
  auto before = fetch(id);
  BOOST_REQUIRE(before.ok);
  BOOST_REQUIRE((deliver(id, "PAYMENT_SUCCEEDED").status == event_status::held));
  auto after_hold = fetch(id);
  BOOST_REQUIRE(after_hold.ok);
  BOOST_TEST(after_hold.value.updated_at == before.value.updated_at);
  BOOST_TEST(order_to_json(after_hold.value) == order_to_json(reloaded(*this, id)));

  // The cancel is a change (and releases the held payment with a rejection, which is not).
  wait_for_late_in_a_second();
  BOOST_REQUIRE(cancel(id).ok);
  auto cancelled = fetch(id);
  BOOST_REQUIRE(cancelled.ok);
  BOOST_TEST(cancelled.value.updated_at > before.value.updated_at);
  BOOST_TEST(order_to_json(cancelled.value) == order_to_json(reloaded(*this, id)));

  // A late payment of the cancelled order: rejected for a refund, the order unchanged.
  wait_until_after(cancelled.value.updated_at); // so that a moved updated_at would show
  BOOST_REQUIRE((deliver(id, "PAYMENT_SUCCEEDED").status == event_status::payment_rejected));
  auto after_rejection = fetch(id);
  BOOST_TEST(order_to_json(after_rejection.value) == order_to_json(cancelled.value));
  BOOST_TEST(order_to_json(after_rejection.value) == order_to_json(reloaded(*this, id)));
}

// A crash between a transition and the replay of its held events: the next actor of
// the order replays them when it loads it, and the sweeper keeps a due deadline of
// such an order live, so that an actor is made to load it.
BOOST_FIXTURE_TEST_CASE(held_events_are_replayed_on_load_and_swept, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "l")).stored.id;
  BOOST_TEST((deliver(id, "PAYMENT_SUCCEEDED").status == event_status::held));
  {
    pqxx::connection c{url};
    pqxx::work tx{c};
    tx.exec("UPDATE orders SET status = 'CANCELLED', reason = 'USER_CANCEL', expired_at = NULL "
            "WHERE id = '" + id + "'");
    tx.exec("INSERT INTO order_deadlines (due_at, order_id) VALUES (now() - interval '1 second', '"
            + id + "')");
    tx.commit();
  }
  {
    pqxx::connection c{url};
    auto due = persistence::due_orders(c, 10, 1000ms);
    BOOST_TEST((due.ids == std::vector<std::string>{id}));
  }
  auto fresh = spawn_order_registry(sys, {writers, readers, {}, {}}, order_settings{});
  order_reply after;
  self->request(fresh, 10s, fetch_atom::value, id)
    .receive([&](order_reply& x) { after = x; }, [&](caf::error&) { BOOST_FAIL("no reply"); });
  self->request(fresh, 10s, fetch_atom::value, id) // after the replay the load started
    .receive([&](order_reply& x) { after = x; }, [&](caf::error&) { BOOST_FAIL("no reply"); });
  self->send_exit(fresh, caf::exit_reason::user_shutdown);
  BOOST_TEST((after.value.status == order_status::cancelled));
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                        "'ORDER_PAYMENT_REJECTED'")
             == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 0);
  {
    pqxx::connection c{url};
    pqxx::work tx{c};
    tx.exec("UPDATE order_deadlines SET claimed_until = NULL");
    tx.commit();
  }
  pqxx::connection c{url};
  BOOST_TEST(persistence::due_orders(c, 10, 1000ms).ids.empty()); // stale now: deleted
  BOOST_TEST(count(url, "SELECT count(*) FROM order_deadlines WHERE order_id = '" + id
                          + "' AND due_at < now()")
             == 0);
}

BOOST_AUTO_TEST_CASE(hold_and_release_writes) {
  auto url = test::fresh_database();
  pqxx::connection conn{url};
  auto cmd = sample_command(new_uuid(), "w");
  persistence::create_orders(conn, {&cmd});
  const auto& id = cmd.fresh.id;
  incoming_event ev;
  ev.event_id = new_uuid();
  ev.event_type = "PAYMENT_SUCCEEDED";
  ev.order_id = id;
  ev.payment_intent_id = "pi-9";

  write_command hold;
  hold.order_id = id;
  hold.expected = hold.next = order_status::created;
  hold.now_ms = unix_now_ms();
  hold.deadline = cmd.fresh.expired_at;
  hold.inbox_event_id = ev.event_id;
  hold.inbox_event_type = ev.event_type;
  hold.hold_body = encode_incoming(ev);
  write_command stale_hold = hold; // the order moved on under it
  stale_hold.expected = stale_hold.next = order_status::reserved;
  stale_hold.inbox_event_id = new_uuid();
  auto out = persistence::write_orders(conn, {&hold, &stale_hold});
  BOOST_TEST((out[0].status == write_status::applied));
  BOOST_TEST((out[1].status == write_status::stale));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM processed_events") == 1); // the stale one's undone
  BOOST_TEST(count(url, "SELECT count(*) FROM orders WHERE status = 'CREATED'") == 1);
  BOOST_TEST((persistence::write_orders(conn, {&hold})[0].status == write_status::duplicate));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 1);

  auto held = persistence::load_early_events(conn, id);
  BOOST_TEST_REQUIRE(held.size() == 1u);
  BOOST_TEST(held[0].event_id == ev.event_id);
  BOOST_TEST(std::get<incoming_event>(decode_incoming(held[0].body)).payment_intent_id == "pi-9");
  BOOST_TEST((persistence::orders_with_early_events(conn, {id, new_uuid()})
              == std::vector<std::string>{id}));
  auto received = count(url, "SELECT (extract(epoch from received_at) * 1000000)::bigint FROM early_events");

  // A release whose guard fails leaves the row as it was; one that applies deletes it
  // with its effect; a second release of the same row (another writer) is a duplicate.
  write_command release;
  release.order_id = id;
  release.expected = order_status::cancelled;
  release.next = order_status::cancelled;
  release.now_ms = unix_now_ms();
  release.release_event_id = ev.event_id;
  release.event = make_order_payment_rejected(id, "pi-9", "ORDER_CANCELLED", unix_now_ms());
  out = persistence::write_orders(conn, {&release});
  BOOST_TEST((out[0].status == write_status::stale));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 1);
  BOOST_TEST(count(url, "SELECT (extract(epoch from received_at) * 1000000)::bigint FROM early_events")
             == received);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                        "'ORDER_PAYMENT_REJECTED'")
             == 0);
  {
    pqxx::work tx{conn};
    tx.exec("UPDATE orders SET status = 'CANCELLED' WHERE id = '" + id + "'");
    tx.commit();
  }
  write_command twice = release;
  twice.event = make_order_payment_rejected(id, "pi-9", "ORDER_CANCELLED", unix_now_ms());
  out = persistence::write_orders(conn, {&release, &twice});
  BOOST_TEST((out[0].status == write_status::applied));
  BOOST_TEST((out[1].status == write_status::duplicate));
  BOOST_TEST((persistence::write_orders(conn, {&twice})[0].status == write_status::duplicate));
  BOOST_TEST(count(url, "SELECT count(*) FROM early_events") == 0);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = "
                        "'ORDER_PAYMENT_REJECTED'")
             == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM processed_events") == 1); // the hold's stays
}

BOOST_FIXTURE_TEST_CASE(sweeper_expiry_applies_only_past_deadlines, actor_fixture) {
  auto id = create(sample_command(new_uuid(), "e")).stored.id;
  deliver(id, "INVENTORY_RESERVED");
  BOOST_TEST((expire(id).status == event_status::ignored)); // deadline still ahead
  auto r = expire_past_deadline(id);
  BOOST_TEST((r.status == event_status::applied));
  BOOST_TEST((r.current == order_status::expired));
  BOOST_TEST(count(url, "SELECT count(*) FROM orders WHERE id = '" + id
                          + "' AND status = 'EXPIRED' AND reason = 'RESERVATION_TTL'")
             == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM outbox_events WHERE event_type = 'ORDER_EXPIRED'")
             == 1);
}

BOOST_FIXTURE_TEST_CASE(idle_actor_passivates_and_a_fresh_one_reloads, actor_fixture) {
  order_settings quick;
  quick.passivate_after = 1s;
  auto reg = spawn_order_registry(sys, {writers, readers, {}, {}}, quick);
  auto ask = [&](const std::string& id) {
    order_reply out;
    self->request(reg, 10s, fetch_atom::value, id)
      .receive([&](order_reply& r) { out = std::move(r); },
               [&](caf::error& e) { BOOST_FAIL("registry failed: " << sys.render(e)); });
    return out;
  };
  auto id = create(sample_command(new_uuid(), "p")).stored.id;
  BOOST_TEST((ask(id).value.status == order_status::created)); // the actor is live now
  {
    pqxx::connection c{url};
    pqxx::work tx{c};
    tx.exec("UPDATE orders SET status = 'RESERVED' WHERE id = '" + id + "'");
    tx.commit();
  }
  // The live actor answers from memory; once it has been idle for a second it leaves,
  // and the next fetch spawns an actor that reads the row again. Every fetch is
  // activity, so each try first leaves the actor idle for longer than a second.
  BOOST_TEST((ask(id).value.status == order_status::created));
  auto deadline = std::chrono::steady_clock::now() + 12s;
  auto status = order_status::created;
  while (status == order_status::created && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1500ms);
    status = ask(id).value.status;
  }
  BOOST_TEST((status == order_status::reserved));
  self->send_exit(reg, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(actor_timer_fires_the_created_deadline) {
  auto url = test::fresh_database();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto writers = spawn_db_writers(sys, url, 1, 16);
  auto readers = spawn_db_readers(sys, url, 1);
  order_settings settings;
  settings.ttl_created = 1s;
  auto registry = spawn_order_registry(sys, {writers, readers, {}, {}}, settings);
  caf::scoped_actor self{sys};
  auto cmd = http::make_create_command(sample_request(new_uuid()), "t", unix_now_ms(), 1s);
  self->request(writers, 10s, create_atom::value, cmd).receive([](create_outcome&) {},
                                                               [](caf::error&) {});
  self->request(registry, 10s, fetch_atom::value, cmd.fresh.id) // the actor arms its timer
    .receive([](order_reply&) {}, [](caf::error&) {});
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::int64_t cancelled = 0;
  while (cancelled == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    cancelled = count(url, "SELECT count(*) FROM orders WHERE status = 'CANCELLED' "
                           "AND reason = 'RESERVATION_TIMEOUT'");
  }
  BOOST_TEST(cancelled == 1);
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  for (auto& a : {readers, writers})
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(guarded_write_refuses_stale_status_and_duplicate_inbox) {
  auto url = test::fresh_database();
  pqxx::connection conn{url};
  auto cmd = sample_command(new_uuid(), "g");
  persistence::create_orders(conn, {&cmd});

  write_command reserve;
  reserve.order_id = cmd.fresh.id;
  reserve.expected = order_status::created;
  reserve.next = order_status::reserved;
  reserve.now_ms = unix_now_ms();
  reserve.inbox_event_id = new_uuid();
  reserve.inbox_event_type = "INVENTORY_RESERVED";
  write_command stale = reserve; // expects CREATED again, with a new event id
  stale.inbox_event_id = new_uuid();
  write_command duplicate = reserve;
  duplicate.expected = order_status::reserved;
  duplicate.next = order_status::payment_pending;
  write_command unknown = reserve;
  unknown.order_id = new_uuid();
  unknown.inbox_event_id = new_uuid();

  auto out = persistence::write_orders(conn, {&reserve, &stale, &duplicate, &unknown});
  BOOST_TEST((out[0].status == write_status::applied));
  BOOST_TEST((out[1].status == write_status::stale));
  BOOST_TEST((out[2].status == write_status::duplicate));
  BOOST_TEST((out[3].status == write_status::not_found));
  BOOST_TEST(count(url, "SELECT count(*) FROM processed_events") == 1);
  BOOST_TEST(count(url, "SELECT count(*) FROM orders WHERE status = 'RESERVED'") == 1);
}

BOOST_AUTO_TEST_CASE(list_is_newest_first_with_limit_and_offset) {
  auto url = test::fresh_database();
  pqxx::connection conn{url};
  auto user = new_uuid();
  std::vector<create_command> cmds;
  for (int i = 0; i < 5; ++i) {
    cmds.push_back(sample_command(user, "l" + std::to_string(i)));
    cmds.back().fresh.created_at += i; // distinct creation times
  }
  std::vector<const create_command*> ptrs;
  for (auto& c : cmds)
    ptrs.push_back(&c);
  persistence::create_orders(conn, ptrs);
  auto page = persistence::list_orders(conn, {user, 2, 1});
  BOOST_REQUIRE(page.size() == 2u);
  BOOST_TEST(page[0].id == cmds[3].fresh.id);
  BOOST_TEST(page[1].id == cmds[2].fresh.id);
  BOOST_TEST(page[0].items.size() == 2u);
  BOOST_TEST(persistence::list_orders(conn, {new_uuid(), 20, 0}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
