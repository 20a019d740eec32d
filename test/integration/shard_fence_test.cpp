// Fencing at the database (migration 000013, persistence/shard_repository.hpp) against
// a real PostgreSQL: a write carrying a stale epoch is refused in its own transaction,
// the owner's writes pass, an acquisition waits for the previous owner's open
// transaction and ends it when it stays open (a paused process), and the sweeper sees
// only the shards it is given.

#include "http/requests.hpp"
#include "messages/shard.hpp"
#include "messages/uuid.hpp"
#include "persistence/expiry_repository.hpp"
#include "persistence/order_repository.hpp"
#include "persistence/shard_repository.hpp"
#include "test_db.hpp"

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <future>
#include <thread>

using namespace flashsale;
using namespace std::chrono_literals;

namespace {

constexpr int shards = 8;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct fence_fixture {
  std::string url = test::fresh_database();
  pqxx::connection conn{url};

  create_command command(shard_fence fence, std::chrono::seconds ttl = 300s) {
    create_order_request r;
    r.user_id = new_uuid();
    r.currency = "EUR";
    r.items = {{"sku-1", 1, 500}};
    r.total_amount = 500;
    auto id = mint_in_shards(new_uuid, shards, [&](int s) { return s == fence.shard; });
    auto cmd = http::make_create_command(r, new_uuid(), now_ms(), ttl, *id);
    cmd.fence = fence;
    return cmd;
  }

  write_command reserve(const std::string& id, shard_fence fence) {
    write_command w;
    w.order_id = id;
    w.expected = order_status::created;
    w.next = order_status::reserved;
    w.now_ms = now_ms();
    w.deadline = now_ms() / 1000 + 600;
    w.fence = fence;
    return w;
  }

  std::string scalar(const std::string& sql) {
    pqxx::work tx{conn};
    auto r = tx.exec(sql);
    return r[0][0].is_null() ? "NULL" : r[0][0].as<std::string>();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(shard_fence_suite)

BOOST_FIXTURE_TEST_CASE(a_stale_epoch_is_refused_and_the_owners_passes, fence_fixture) {
  auto e1 = persistence::acquire_shard(conn, 3, "node-a", 1s);
  BOOST_TEST(e1 == 1);
  auto mine = command({3, e1});
  auto out = persistence::create_orders(conn, {&mine});
  BOOST_TEST_REQUIRE((out[0].status == create_status::created));
  BOOST_TEST(scalar("SELECT shard || ':' || epoch FROM orders WHERE id = '" + mine.fresh.id + "'")
             == "3:1");
  BOOST_TEST(scalar("SELECT shard FROM order_deadlines WHERE order_id = '" + mine.fresh.id + "'")
             == "3");

  // Node b takes shard 3: node a's epoch is stale from now on.
  auto e2 = persistence::acquire_shard(conn, 3, "node-b", 1s);
  BOOST_TEST(e2 == 2);
  auto stale_write = reserve(mine.fresh.id, {3, e1});
  auto w = persistence::write_orders(conn, {&stale_write});
  BOOST_TEST((w[0].status == write_status::fenced));
  BOOST_TEST((w[0].error.code == error_code::unavailable));
  BOOST_TEST(scalar("SELECT status FROM orders WHERE id = '" + mine.fresh.id + "'") == "CREATED");

  auto stale_create = command({3, e1});
  auto c = persistence::create_orders(conn, {&stale_create});
  BOOST_TEST((c[0].status == create_status::fenced));
  BOOST_TEST(scalar("SELECT count(*) FROM orders WHERE id = '" + stale_create.fresh.id + "'")
             == "0");

  // In one batch the owner's command commits beside the refused one.
  auto owners = reserve(mine.fresh.id, {3, e2});
  auto other = command({3, e1});
  auto both = persistence::write_orders(conn, {&owners});
  BOOST_TEST((both[0].status == write_status::applied));
  auto mixed_ok = command({3, e2});
  auto mixed = persistence::create_orders(conn, {&other, &mixed_ok});
  BOOST_TEST((mixed[0].status == create_status::fenced));
  BOOST_TEST((mixed[1].status == create_status::created));
  BOOST_TEST(scalar("SELECT epoch FROM orders WHERE id = '" + mine.fresh.id + "'") == "2");
}

BOOST_FIXTURE_TEST_CASE(a_shard_never_acquired_refuses_every_fenced_write, fence_fixture) {
  auto cmd = command({5, 1});
  auto out = persistence::create_orders(conn, {&cmd});
  BOOST_TEST((out[0].status == create_status::fenced));
}

BOOST_FIXTURE_TEST_CASE(an_acquisition_waits_for_an_open_writer_transaction, fence_fixture) {
  auto e1 = persistence::acquire_shard(conn, 2, "node-a", 1s);
  pqxx::connection writer{url};
  pqxx::work tx{writer};
  auto stale = persistence::stale_fences(tx, {{2, e1}}); // holds shard 2's lock shared
  BOOST_TEST(!stale[0]);
  auto started = std::chrono::steady_clock::now();
  auto acquired = std::async(std::launch::async, [&] {
    pqxx::connection other{url};
    return persistence::acquire_shard(other, 2, "node-b", 5s);
  });
  BOOST_TEST((acquired.wait_for(300ms) == std::future_status::timeout)); // waits for the writer
  tx.commit();
  BOOST_TEST(acquired.get() == e1 + 1);
  BOOST_TEST((std::chrono::steady_clock::now() - started >= 300ms));
}

// The other way round: a writer that waited for an acquisition in progress must see its
// new epoch once it gets the lock (the epochs are read after the locks are granted).
BOOST_FIXTURE_TEST_CASE(a_writer_behind_an_acquisition_sees_the_new_epoch, fence_fixture) {
  auto e1 = persistence::acquire_shard(conn, 7, "node-a", 1s);
  pqxx::connection acquirer{url};
  pqxx::work taking{acquirer}; // an acquisition under way: the exclusive lock, then the epoch
  taking.exec_params("SELECT pg_advisory_xact_lock($1, 7)", persistence::shard_lock_space);
  taking.exec("UPDATE shard_owners SET epoch = epoch + 1, node_id = 'node-b' WHERE shard = 7");
  auto writer = std::async(std::launch::async, [&] {
    pqxx::connection c{url};
    pqxx::work tx{c};
    auto stale = persistence::stale_fences(tx, {{7, e1}});
    tx.commit();
    return static_cast<bool>(stale[0]);
  });
  BOOST_TEST((writer.wait_for(300ms) == std::future_status::timeout)); // waits for the lock
  taking.commit();
  BOOST_TEST(writer.get()); // node a's epoch is stale now: its write would be refused
}

BOOST_FIXTURE_TEST_CASE(an_acquisition_ends_a_writer_that_stays_open, fence_fixture) {
  auto e1 = persistence::acquire_shard(conn, 6, "node-a", 1s);
  // A paused owner: its transaction never ends by itself. Its own connection is not used
  // after the termination (libpqxx 6.4 leaks the error result of a statement there, which
  // LeakSanitizer reports), so the test looks at the server side instead.
  // Its BEGIN by hand: a pqxx::work would send ROLLBACK on the dead connection at the end.
  pqxx::connection paused{url};
  auto pid = paused.backendpid();
  pqxx::nontransaction tx{paused};
  tx.exec("BEGIN");
  persistence::stale_fences(tx, {{6, e1}});
  std::size_t ended = 0;
  auto e2 = persistence::acquire_shard(conn, 6, "node-b", 300ms, &ended);
  BOOST_TEST(e2 == e1 + 1);
  BOOST_TEST(ended == 1u);
  // Its server process is gone, and with it the transaction: nothing of it can commit.
  auto gone = [&] {
    return scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) == "0";
  };
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!gone() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  BOOST_TEST(gone());
}

// A holder the acquiring role may not terminate (a superuser's session, as this test's
// own is): PostgreSQL refuses pg_terminate_backend (42501), the lock stays held, and the
// acquisition says so with shard_lock_taken (the saga consumer then goes on with its
// other shards), having changed nothing.
BOOST_FIXTURE_TEST_CASE(a_holder_that_cannot_be_ended_refuses_that_shard_alone, fence_fixture) {
  auto e1 = persistence::acquire_shard(conn, 5, "node-a", 1s);
  {
    pqxx::nontransaction admin{conn};
    admin.exec("DO $$ BEGIN CREATE ROLE ft_plain_acquirer LOGIN; "
               "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
    admin.exec("GRANT SELECT, INSERT, UPDATE ON shard_owners TO ft_plain_acquirer");
  }
  pqxx::connection plain{url + (url.find('?') == std::string::npos ? "?" : "&")
                         + "user=ft_plain_acquirer"};
  BOOST_REQUIRE(scalar("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user")
                == "true");
  pqxx::connection holder{url}; // a superuser's writer, mid-transaction
  pqxx::work held{holder};
  persistence::stale_fences(held, {{5, e1}});

  std::size_t ended = 0;
  BOOST_CHECK_THROW(persistence::acquire_shard(plain, 5, "node-b", 200ms, &ended),
                    persistence::shard_lock_taken);
  BOOST_TEST(ended == 0u);
  BOOST_TEST(scalar("SELECT epoch || ':' || node_id FROM shard_owners WHERE shard = 5")
             == std::to_string(e1) + ":node-a");
  held.commit(); // the writer ends: the same role acquires now
  BOOST_TEST(persistence::acquire_shard(plain, 5, "node-b", 1s) == e1 + 1);
}

BOOST_FIXTURE_TEST_CASE(the_sweeper_sees_only_the_shards_it_is_given, fence_fixture) {
  auto e1 = persistence::acquire_shard(conn, 1, "n", 1s);
  auto e4 = persistence::acquire_shard(conn, 4, "n", 1s);
  auto in1 = command({1, e1}, 1s), in4 = command({4, e4}, 1s);
  persistence::create_orders(conn, {&in1, &in4});
  std::this_thread::sleep_for(1100ms); // both deadlines pass (whole seconds)
  auto mine = std::vector<int>{4};
  auto due = persistence::due_orders(conn, 10, 0ms, &mine);
  BOOST_TEST((due.ids == std::vector<std::string>{in4.fresh.id}));
  auto every = persistence::due_orders(conn, 10, 0ms);
  BOOST_TEST(every.ids.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(rows_before_the_migration_get_their_shard, fence_fixture) {
  auto id = new_uuid();
  {
    pqxx::work tx{conn};
    tx.exec("INSERT INTO order_deadlines (due_at, order_id) VALUES (now(), '" + id + "')");
    tx.commit();
  }
  BOOST_TEST(persistence::backfill_deadline_shards(conn, shards, 10) == 1u);
  BOOST_TEST(scalar("SELECT shard FROM order_deadlines WHERE order_id = '" + id + "'")
             == std::to_string(shard_of(id, shards)));
  BOOST_TEST(persistence::backfill_deadline_shards(conn, shards, 10) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
