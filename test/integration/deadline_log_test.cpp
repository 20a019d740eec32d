// The deadline log (order_deadlines, migration 000004) against a real PostgreSQL:
// creates and transitions append the new state's deadline, the sweeper's query returns
// the orders still waiting for a passed deadline and deletes the rows orders left
// behind, and transitions stay HOT updates.

#include "http/requests.hpp"
#include "messages/uuid.hpp"
#include "persistence/expiry_repository.hpp"
#include "persistence/order_repository.hpp"
#include "test_db.hpp"

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <thread>

using namespace flashsale;
using namespace std::chrono_literals;

namespace {

std::int64_t now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

struct deadline_fixture {
  std::string url = test::fresh_database();
  pqxx::connection conn{url};

  std::string create(std::chrono::seconds ttl = 300s) {
    create_order_request r;
    r.user_id = new_uuid();
    r.currency = "EUR";
    r.items = {{"sku-1", 1, 500}};
    r.total_amount = 500;
    auto cmd = http::make_create_command(r, "k", now_s() * 1000, ttl);
    auto out = persistence::create_orders(conn, {&cmd});
    BOOST_TEST_REQUIRE((out.at(0).status == create_status::created));
    return cmd.fresh.id;
  }

  write_status move(const std::string& id, order_status from, order_status to,
                    std::optional<std::int64_t> deadline) {
    write_command w;
    w.order_id = id;
    w.expected = from;
    w.next = to;
    w.deadline = deadline;
    w.now_ms = now_s() * 1000;
    return persistence::write_orders(conn, {&w}).at(0).status;
  }

  std::int64_t count(const std::string& sql) {
    pqxx::nontransaction tx{conn};
    return tx.exec1(sql)[0].as<std::int64_t>();
  }

  void exec(const std::string& sql) {
    pqxx::nontransaction tx{conn};
    tx.exec(sql);
  }
};

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

} // namespace

BOOST_FIXTURE_TEST_CASE(creates_and_transitions_append_their_deadlines, deadline_fixture) {
  auto id = create();
  BOOST_TEST(count("SELECT count(*) FROM order_deadlines d JOIN orders o ON o.id = d.order_id"
                   " WHERE d.due_at = o.expired_at AND o.id = '" + id + "'")
             == 1);
  BOOST_TEST((move(id, order_status::created, order_status::reserved, now_s() + 120)
              == write_status::applied));
  BOOST_TEST(count("SELECT count(*) FROM order_deadlines WHERE order_id = '" + id + "'") == 2);
  // A refused (stale) write appends nothing; a terminal state has no deadline.
  BOOST_TEST((move(id, order_status::created, order_status::reserved, now_s() + 120)
              == write_status::stale));
  BOOST_TEST((move(id, order_status::reserved, order_status::cancelled, std::nullopt)
              == write_status::applied));
  BOOST_TEST(count("SELECT count(*) FROM order_deadlines WHERE order_id = '" + id + "'") == 2);
}

BOOST_FIXTURE_TEST_CASE(due_orders_returns_waiting_orders_and_deletes_what_was_left,
                        deadline_fixture) {
  auto waiting = create(), moved_on = create(), finished = create(), ahead = create();
  auto past = std::to_string(now_s() - 10);
  // waiting: its CREATED deadline passed. moved_on: reserved (deadline ahead), so its
  // CREATED row is stale. finished: cancelled. ahead: deadline not reached.
  exec("UPDATE orders SET expired_at = to_timestamp(" + past + ") WHERE id IN ('" + waiting
       + "', '" + moved_on + "', '" + finished + "')");
  exec("UPDATE order_deadlines SET due_at = to_timestamp(" + past + ") WHERE order_id IN ('"
       + waiting + "', '" + moved_on + "', '" + finished + "')");
  BOOST_TEST((move(moved_on, order_status::created, order_status::reserved, now_s() + 120)
              == write_status::applied));
  BOOST_TEST((move(finished, order_status::created, order_status::cancelled, std::nullopt)
              == write_status::applied));

  auto due = persistence::due_orders(conn, 100, 0ms);
  BOOST_TEST(due.rows == 3u);
  BOOST_TEST(due.ids.size() == 1u);
  BOOST_TEST(contains(due.ids, waiting));
  // The stale rows are gone; the live one stays until its order expires.
  BOOST_TEST(count("SELECT count(*) FROM order_deadlines WHERE due_at <= now()") == 1);
  BOOST_TEST(count("SELECT count(*) FROM order_deadlines") == 3); // waiting, moved_on, ahead
  BOOST_TEST(persistence::due_orders(conn, 100, 0ms).ids == due.ids);

  BOOST_TEST((move(waiting, order_status::created, order_status::cancelled, std::nullopt)
              == write_status::applied));
  due = persistence::due_orders(conn, 100, 0ms);
  BOOST_TEST(due.ids.empty());
  BOOST_TEST(count("SELECT count(*) FROM order_deadlines WHERE due_at <= now()") == 0);
  BOOST_TEST(!contains(due.ids, ahead));
}

BOOST_FIXTURE_TEST_CASE(due_orders_reads_at_most_limit_rows_earliest_first, deadline_fixture) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(create());
    auto at = "to_timestamp(" + std::to_string(now_s() - 100 + i) + ")";
    exec("UPDATE orders SET expired_at = " + at + " WHERE id = '" + ids.back() + "'");
    exec("UPDATE order_deadlines SET due_at = " + at + " WHERE order_id = '" + ids.back() + "'");
  }
  auto due = persistence::due_orders(conn, 3, 0ms);
  BOOST_TEST(due.rows == 3u);
  BOOST_TEST((due.ids == std::vector<std::string>{ids[0], ids[1], ids[2]}));
}

// Issue 11 item 3: sweepers on several nodes share the log. Each claims what it sends
// for, so a second sweeper finds other rows (not the first one's again, nor a window
// filled with them), and a claim that is never answered lapses.
BOOST_FIXTURE_TEST_CASE(sweepers_claim_disjoint_rows_and_claims_lapse, deadline_fixture) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(create());
    auto at = "to_timestamp(" + std::to_string(now_s() - 100 + i) + ")";
    exec("UPDATE orders SET expired_at = " + at + " WHERE id = '" + ids.back() + "'");
    exec("UPDATE order_deadlines SET due_at = " + at + " WHERE order_id = '" + ids.back() + "'");
  }
  pqxx::connection other{url};
  auto first = persistence::due_orders(conn, 3, 30s);
  auto second = persistence::due_orders(other, 3, 30s);
  BOOST_TEST((first.ids == std::vector<std::string>{ids[0], ids[1], ids[2]}));
  BOOST_TEST((second.ids == std::vector<std::string>{ids[3], ids[4], ids[5]}));
  BOOST_TEST(persistence::due_orders(conn, 10, 30s).ids.empty());
  // A lapsed claim (its sweeper died or its expiry got lost) is swept again.
  exec("UPDATE order_deadlines SET claimed_until = now() - interval '1 second' WHERE order_id = '"
       + ids[1] + "'");
  BOOST_TEST((persistence::due_orders(other, 10, 30s).ids == std::vector<std::string>{ids[1]}));
}

BOOST_FIXTURE_TEST_CASE(transitions_are_hot_updates, deadline_fixture) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i)
    ids.push_back(create());
  for (const auto& id : ids)
    BOOST_TEST_REQUIRE((move(id, order_status::created, order_status::reserved, now_s() + 120)
                        == write_status::applied));
  // Each backend reports its table counters when idle, at most once a second: wait
  // (with a deadline) until all 50 updates are reported, then look at the HOT ones.
  pqxx::connection reader{url};
  auto stat = [&](const char* column) {
    pqxx::nontransaction tx{reader};
    return tx.exec1(std::string{"SELECT "} + column
                    + " FROM pg_stat_user_tables WHERE relname = 'orders'")[0]
      .as<std::int64_t>();
  };
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (stat("n_tup_upd") < 50 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  auto all = stat("n_tup_upd"), hot = stat("n_tup_hot_upd");
  BOOST_TEST(all == 50);
  BOOST_TEST(hot == all); // fillfactor 80 leaves room, and no indexed column changes
}
