// The migration runner against a real PostgreSQL: the project's own migrations/,
// plus small synthetic folders for ordering, down steps and failure handling.

#include "persistence/migrator.hpp"
#include "test_db.hpp"

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <unistd.h>
#include <exception>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

using flashsale::persistence::migration_state;
using flashsale::persistence::migrator;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTables = {"orders", "order_items", "outbox_events",
                                          "processed_events"};

// How many migrations the project has: the tests stay valid as more are added.
int project_migrations() {
  int n = 0;
  for (const auto &e : fs::directory_iterator(FLASHSALE_MIGRATIONS_DIR)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 7 && f.compare(f.size() - 7, 7, ".up.sql") == 0) ++n;
  }
  return n;
}

bool table_exists(const std::string &url, const std::string &table) {
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  return tx.exec1("SELECT to_regclass(" + tx.quote(table) + ") IS NOT NULL")[0].as<bool>();
}

// The rows of schema_migrations as "version:dirty", or "-" if the table is absent.
std::string version_rows(const std::string &url) {
  if (!table_exists(url, "schema_migrations")) return "-";
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  std::string out;
  for (const auto &row : tx.exec("SELECT version, dirty FROM schema_migrations ORDER BY 1")) {
    if (!out.empty()) out += ",";
    out += row[0].as<std::string>() + ":" + (row[1].as<bool>() ? "dirty" : "clean");
  }
  return out;
}

// A temporary migrations folder that deletes itself.
struct temp_folder {
  fs::path path;
  temp_folder() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() /
           ("fs-migrations-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(path);
  }
  ~temp_folder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void write(const std::string &file, const std::string &text) const {
    std::ofstream(path / file) << text;
  }
  std::string dir() const { return path.string(); }
};

// 1_a, 3_b, 10_c: numeric order differs from the files' lexical order.
void write_abc(const temp_folder &f) {
  f.write("1_a.up.sql", "CREATE TABLE a (x int PRIMARY KEY);");
  f.write("1_a.down.sql", "DROP TABLE a;");
  f.write("3_b.up.sql", "CREATE TABLE b (x int);\nINSERT INTO b VALUES (1), (2);");
  f.write("3_b.down.sql", "DROP TABLE b;");
  f.write("10_c.up.sql", "CREATE TABLE c (x int REFERENCES a(x) DEFERRABLE);");
  f.write("10_c.down.sql", "DROP TABLE c;");
  f.write("README.md", "not a migration, ignored");
}

std::string applied_names(const std::vector<migration_state> &st) {
  std::string out;
  for (const auto &m : st)
    out += std::to_string(m.version) + "_" + m.name + (m.applied ? "+" : "-") + " ";
  return out;
}

template <typename F> std::string error_of(F &&f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(migrator_suite)

BOOST_AUTO_TEST_CASE(up_creates_the_tables_and_records_the_version) {
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, FLASHSALE_MIGRATIONS_DIR);
  const int total = project_migrations();
  BOOST_TEST_REQUIRE(total >= 1);

  BOOST_TEST(m.up() == total);
  for (const auto &t : kTables) BOOST_TEST(table_exists(url, t), "table " << t);

  const auto st = m.status();
  BOOST_TEST(st.size() == static_cast<size_t>(total));
  BOOST_TEST(st.front().version == 1);
  BOOST_TEST(st.front().name == "orders");
  for (const auto &s : st) BOOST_TEST(s.applied, "migration " << s.version);
  BOOST_TEST(version_rows(url) == std::to_string(st.back().version) + ":clean");
}

BOOST_AUTO_TEST_CASE(up_twice_is_a_no_op) {
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, FLASHSALE_MIGRATIONS_DIR);
  const int total = project_migrations();
  BOOST_TEST(m.up() == total);
  const auto rows = version_rows(url);
  BOOST_TEST(m.up() == 0);
  BOOST_TEST(m.up() == 0);
  BOOST_TEST(version_rows(url) == rows);
}

BOOST_AUTO_TEST_CASE(fresh_database_helper_migrates) {
  const auto url = flashsale::test::fresh_database();
  for (const auto &t : kTables) BOOST_TEST(table_exists(url, t), "table " << t);
  BOOST_TEST(migrator(url, FLASHSALE_MIGRATIONS_DIR).up() == 0);
  // Distinct databases per call.
  BOOST_TEST(flashsale::test::fresh_database(false) != flashsale::test::fresh_database(false));
}

BOOST_AUTO_TEST_CASE(down_reverts_everything_and_up_restores_it) {
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, FLASHSALE_MIGRATIONS_DIR);
  const int total = project_migrations();
  m.up();

  // The first migration creates the four tables; reverting down to it drops them.
  BOOST_TEST(m.down(total) == total);
  for (const auto &t : kTables) BOOST_TEST(!table_exists(url, t), "table " << t);
  BOOST_TEST(version_rows(url) == ""); // golang-migrate: no row = nothing applied
  for (const auto &s : m.status()) BOOST_TEST(!s.applied, "migration " << s.version);
  BOOST_TEST(m.down(1) == 0); // nothing left

  BOOST_TEST(m.up() == total);
  for (const auto &t : kTables) BOOST_TEST(table_exists(url, t), "table " << t);
}

BOOST_AUTO_TEST_CASE(down_one_reverts_the_newest_project_migration) {
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, FLASHSALE_MIGRATIONS_DIR);
  const int total = project_migrations();
  m.up();
  BOOST_TEST(m.down(1) == 1);
  const auto st = m.status();
  for (size_t i = 0; i < st.size(); ++i)
    BOOST_TEST(st[i].applied == (i + 1 < st.size()), "migration " << st[i].version);
  if (total == 1)
    for (const auto &t : kTables) BOOST_TEST(!table_exists(url, t), "table " << t);
  BOOST_TEST(m.up() == 1);
}

BOOST_AUTO_TEST_CASE(status_reads_without_creating_anything) {
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, FLASHSALE_MIGRATIONS_DIR);
  const auto st = m.status();
  BOOST_TEST(st.size() == static_cast<size_t>(project_migrations()));
  for (const auto &s : st) BOOST_TEST(!s.applied, "migration " << s.version);
  BOOST_TEST(version_rows(url) == "-");
}

BOOST_AUTO_TEST_CASE(concurrent_up_calls_all_succeed) {
  const auto url = flashsale::test::fresh_database(false);
  const int total = project_migrations();
  constexpr int kNodes = 4;
  std::vector<std::thread> nodes;
  std::vector<int> applied(kNodes, -1);
  std::vector<std::string> errors(kNodes);
  for (int i = 0; i < kNodes; ++i)
    nodes.emplace_back([&, i] {
      try {
        applied[i] = migrator(url, FLASHSALE_MIGRATIONS_DIR).up();
      } catch (const std::exception &e) {
        errors[i] = e.what();
      }
    });
  for (auto &t : nodes) t.join();

  int sum = 0;
  for (int i = 0; i < kNodes; ++i) {
    BOOST_TEST(errors[i] == "", "node " << i);
    sum += applied[i];
  }
  BOOST_TEST(sum == total); // each migration applied exactly once, by someone
  for (const auto &t : kTables) BOOST_TEST(table_exists(url, t), "table " << t);
  pqxx::connection c{url};
  pqxx::nontransaction tx{c};
  BOOST_TEST(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() == 1);
}

BOOST_AUTO_TEST_CASE(versions_sort_numerically_and_down_steps_back_one_at_a_time) {
  temp_folder f;
  write_abc(f);
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, f.dir());

  BOOST_TEST(applied_names(m.status()) == "1_a- 3_b- 10_c- ");
  BOOST_TEST(m.up() == 3);
  BOOST_TEST(version_rows(url) == "10:clean");
  BOOST_TEST(applied_names(m.status()) == "1_a+ 3_b+ 10_c+ ");

  BOOST_TEST(m.down(1) == 1);
  BOOST_TEST(!table_exists(url, "c"));
  BOOST_TEST(table_exists(url, "b"));
  BOOST_TEST(version_rows(url) == "3:clean");
  BOOST_TEST(applied_names(m.status()) == "1_a+ 3_b+ 10_c- ");

  BOOST_TEST(m.down(5) == 2); // only two left
  BOOST_TEST(version_rows(url) == "");
  BOOST_TEST(!table_exists(url, "a"));
  BOOST_TEST(m.down(0) == 0);
}

BOOST_AUTO_TEST_CASE(a_new_file_is_applied_by_the_next_up) {
  temp_folder f;
  write_abc(f);
  const auto url = flashsale::test::fresh_database(false);
  BOOST_TEST(migrator(url, f.dir()).up() == 3);
  f.write("11_d.up.sql", "CREATE TABLE d (x int);");
  f.write("11_d.down.sql", "DROP TABLE d;");
  BOOST_TEST(migrator(url, f.dir()).up() == 1);
  BOOST_TEST(table_exists(url, "d"));
  BOOST_TEST(version_rows(url) == "11:clean");
}

BOOST_AUTO_TEST_CASE(a_failing_migration_rolls_back_completely) {
  temp_folder f;
  write_abc(f);
  f.write("20_bad.up.sql", "CREATE TABLE half (x int);\nSELECT no_such_function();");
  f.write("20_bad.down.sql", "DROP TABLE half;");
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, f.dir());

  const auto err = error_of([&] { m.up(); });
  BOOST_TEST(contains(err, "20_bad.up.sql"), err);
  BOOST_TEST(contains(err, "no_such_function"), err);
  // The three good ones are committed, the bad one left no trace and no dirty row.
  BOOST_TEST(table_exists(url, "c"));
  BOOST_TEST(!table_exists(url, "half"));
  BOOST_TEST(version_rows(url) == "10:clean");

  f.write("20_bad.up.sql", "CREATE TABLE half (x int);"); // fixed
  BOOST_TEST(m.up() == 1);
  BOOST_TEST(version_rows(url) == "20:clean");
}

BOOST_AUTO_TEST_CASE(a_dirty_database_is_refused) {
  temp_folder f;
  write_abc(f);
  const auto url = flashsale::test::fresh_database(false);
  migrator m(url, f.dir());
  m.up();
  {
    pqxx::connection c{url};
    pqxx::work tx{c};
    tx.exec("UPDATE schema_migrations SET version = 3, dirty = true");
    tx.commit();
  }
  const auto err = error_of([&] { m.up(); });
  BOOST_TEST(contains(err, "dirty at version 3"), err);
  BOOST_TEST(contains(error_of([&] { m.down(1); }), "dirty"));
}

BOOST_AUTO_TEST_CASE(clear_errors_for_bad_folders_and_urls) {
  const auto url = flashsale::test::fresh_database(false);
  BOOST_TEST(contains(error_of([&] { migrator(url, "/nonexistent/migrations").up(); }),
                      "/nonexistent/migrations"));

  temp_folder no_down;
  no_down.write("1_a.up.sql", "CREATE TABLE a (x int);");
  migrator m(url, no_down.dir());
  BOOST_TEST(m.up() == 1);
  const auto err = error_of([&] { m.down(1); });
  BOOST_TEST(contains(err, "1_a has no .down.sql"), err);

  temp_folder no_up;
  no_up.write("1_a.down.sql", "DROP TABLE a;");
  BOOST_TEST(contains(error_of([&] { migrator(url, no_up.dir()).up(); }), "no .up.sql"));

  temp_folder clash;
  clash.write("1_a.up.sql", "SELECT 1;");
  clash.write("1_b.up.sql", "SELECT 1;");
  BOOST_TEST(contains(error_of([&] { migrator(url, clash.dir()).up(); }), "share version 1"));

  const auto bad_url = flashsale::test::with_database(
      "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2", "x");
  // Tried once: waiting for a database to come up is the next test's, and 60 s of
  // retries against a port nobody listens on were most of this suite's time.
  flashsale::persistence::migrate_settings once;
  once.database_wait = std::chrono::seconds{0};
  const auto conn_err =
    error_of([&] { migrator(bad_url, FLASHSALE_MIGRATIONS_DIR, once).up(); });
  BOOST_TEST(contains(conn_err, "cannot connect"), conn_err);

  BOOST_TEST(contains(error_of([&] { migrator(url, FLASHSALE_MIGRATIONS_DIR).down(-1); }),
                      "negative"));
}

// MIGRATE_DATABASE_WAIT_S: a database that does not answer is tried again until the
// wait is over, then the error says so.
BOOST_AUTO_TEST_CASE(an_unreachable_database_is_retried_until_the_wait_is_over) {
  const auto bad_url = flashsale::test::with_database(
      "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2", "x");
  flashsale::persistence::migrate_settings wait;
  wait.database_wait = std::chrono::seconds{2};
  auto started = std::chrono::steady_clock::now();
  const auto err = error_of([&] { migrator(bad_url, FLASHSALE_MIGRATIONS_DIR, wait).up(); });
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(contains(err, "cannot connect"), err);
  BOOST_TEST((took >= std::chrono::milliseconds{1400}));   // retried, not given up at once
  BOOST_TEST((took < std::chrono::seconds{10}));           // and not past the wait
}

BOOST_AUTO_TEST_CASE(with_database_rewrites_urls) {
  using flashsale::test::with_database;
  BOOST_TEST(with_database("postgresql://u@h:5/postgres", "x") == "postgresql://u@h:5/x");
  BOOST_TEST(with_database("postgresql://u@h:5", "x") == "postgresql://u@h:5/x");
  BOOST_TEST(with_database("postgres://h/db?sslmode=disable", "x") ==
             "postgres://h/x?sslmode=disable");
  BOOST_TEST(with_database("postgresql://h?connect_timeout=2", "x") ==
             "postgresql://h/x?connect_timeout=2");
  BOOST_TEST(with_database("host=h port=5 dbname=postgres", "x") ==
             "host=h port=5 dbname=postgres dbname=x");
}

BOOST_AUTO_TEST_CASE(kafka_brokers_come_from_the_environment) {
  BOOST_TEST(!flashsale::test::kafka_brokers().empty());
}

BOOST_AUTO_TEST_SUITE_END()
