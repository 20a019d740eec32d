// Schema migrations in golang-migrate's layout, so either tool can take over a
// database: files NNNNNN_name.up.sql / NNNNNN_name.down.sql, and a table
// schema_migrations(version, dirty) holding a single row with the newest applied
// version (no row = nothing applied).
//
// Every step runs in its own transaction that also takes a transaction-scoped
// advisory lock, re-reads the version and updates it: several nodes running
// `migrate up` at once serialise on the lock, and whoever comes second sees the
// work already done. A failing migration rolls back completely, so unlike
// golang-migrate the row is never left dirty by this tool; a dirty row written by
// golang-migrate is refused with a clear message.

#include "persistence/migrator.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace flashsale::persistence {

namespace {

namespace fs = std::filesystem;

// Any fixed key works: advisory locks are scoped to the database. ("FSMIGRAT")
constexpr long long kLockKey = 0x46534D4947524154LL;

struct migration_file {
  std::int64_t version = 0;
  std::string name;
  fs::path up;
  fs::path down;
};

using catalogue = std::map<std::int64_t, migration_file>; // sorted by version

// Our own errors, already worded for the operator; anything else gets wrapped.
struct migrate_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string &what) { throw migrate_error("migrate: " + what); }

// Runs a step and turns stray libpqxx errors into one clear migrate_error.
template <typename F> auto guarded(const char *step, F &&body) {
  try {
    return body();
  } catch (const migrate_error &) {
    throw;
  } catch (const pqxx::failure &e) {
    fail(std::string(step) + ": database error: " + e.what());
  }
}

catalogue read_folder(const std::string &dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail("migrations folder '" + dir + "' does not exist or is not a folder");

  // golang-migrate's naming; other files (README, editor backups) are ignored as
  // golang-migrate does.
  static const std::regex pattern(R"(^([0-9]+)_(.+)\.(up|down)\.sql$)");
  catalogue found;
  for (const auto &entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string file = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(file, m, pattern)) continue;

    std::int64_t version = 0;
    try {
      version = std::stoll(m[1].str());
    } catch (const std::exception &) {
      fail("version number of '" + file + "' is out of range");
    }
    migration_file &mf = found[version];
    if (mf.name.empty()) {
      mf.version = version;
      mf.name = m[2].str();
    } else if (mf.name != m[2].str()) {
      fail("two migrations share version " + std::to_string(version) + ": '" + mf.name +
           "' and '" + m[2].str() + "'");
    }
    fs::path &slot = m[3].str() == "up" ? mf.up : mf.down;
    if (!slot.empty()) fail("duplicate migration file '" + file + "'");
    slot = entry.path();
  }
  for (const auto &[version, mf] : found)
    if (mf.up.empty())
      fail("migration " + std::to_string(version) + "_" + mf.name + " has no .up.sql file");
  return found;
}

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool blank(const std::string &sql) {
  return std::all_of(sql.begin(), sql.end(),
                     [](unsigned char c) { return std::isspace(c) != 0; });
}

// Connects, retrying a refused or failing connection until `settings.database_wait`
// has passed: PostgreSQL may still be starting (or in its init phase, which accepts no
// TCP) when the migration job starts. Each new reason for waiting is printed once.
std::unique_ptr<pqxx::connection> connect(const std::string &url, const migrate_settings &settings) {
  const auto deadline = std::chrono::steady_clock::now() + settings.database_wait;
  std::string last_reason;
  for (;;) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const std::exception &e) {
      std::string reason = e.what();
      while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.back())))
        reason.pop_back();
      if (std::chrono::steady_clock::now() + settings.retry_interval > deadline)
        fail("cannot connect to the database: " + reason);
      if (reason != last_reason)
        std::cerr << "migrate: waiting for the database (up to " << settings.database_wait.count()
                  << " s): " << reason << "\n";
      last_reason = reason;
      std::this_thread::sleep_for(settings.retry_interval);
    }
  }
}

struct db_version {
  std::optional<std::int64_t> version; // none: nothing applied
  bool dirty = false;
};

// Serialises migrators on this database until the transaction ends.
void lock(pqxx::work &tx) {
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockKey) + ")");
}

void ensure_table(pqxx::work &tx) {
  tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations "
          "(version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)");
}

db_version read_version(pqxx::transaction_base &tx) {
  // status() must not create the table, so look before reading.
  pqxx::result exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return {};
  pqxx::result r = tx.exec("SELECT version, dirty FROM schema_migrations");
  if (r.empty()) return {};
  if (r.size() > 1)
    fail("schema_migrations holds " + std::to_string(r.size()) +
         " rows; expected exactly one (golang-migrate layout)");
  return {r[0][0].as<std::int64_t>(), r[0][1].as<bool>()};
}

void refuse_dirty(const db_version &v) {
  if (v.dirty)
    fail("database is dirty at version " + std::to_string(*v.version) +
         ": a previous migration failed half-way (outside this tool); repair the schema "
         "by hand, then fix the row in schema_migrations");
}

void write_version(pqxx::work &tx, std::optional<std::int64_t> version) {
  tx.exec("DELETE FROM schema_migrations");
  if (version)
    tx.exec("INSERT INTO schema_migrations (version, dirty) VALUES (" +
            std::to_string(*version) + ", false)");
}

std::string label(const migration_file &mf) {
  return std::to_string(mf.version) + "_" + mf.name;
}

// Runs one migration's SQL and records the new version in the same transaction.
void apply(pqxx::work &tx, const fs::path &file, const std::string &what,
           std::optional<std::int64_t> new_version) {
  const std::string sql = read_file(file);
  try {
    if (!blank(sql)) tx.exec(sql);
    write_version(tx, new_version);
    tx.commit();
  } catch (const pqxx::failure &e) {
    fail(what + " (" + file.filename().string() + ") failed and was rolled back: " +
         e.what());
  }
}

} // namespace

migrator::migrator(std::string database_url, std::string migrations_dir,
                   migrate_settings settings)
    : database_url_(std::move(database_url)), dir_(std::move(migrations_dir)),
      settings_(settings) {}

int migrator::up() {
  const catalogue files = read_folder(dir_);
  return guarded("up", [&] {
    auto conn = connect(database_url_, settings_);
    int applied = 0;
    for (;;) {
      pqxx::work tx(*conn, "migrate_up");
      lock(tx);
      ensure_table(tx);
      const db_version current = read_version(tx);
      refuse_dirty(current);
      // golang-migrate semantics: everything up to the recorded version is applied.
      auto next = current.version ? files.upper_bound(*current.version) : files.begin();
      if (next == files.end()) {
        tx.commit();
        return applied;
      }
      apply(tx, next->second.up, "migration " + label(next->second), next->first);
      ++applied;
    }
  });
}

int migrator::down(int steps) {
  if (steps < 0) fail("down: the number of steps must not be negative");
  const catalogue files = read_folder(dir_);
  return guarded("down", [&] {
    auto conn = connect(database_url_, settings_);
    int reverted = 0;
    while (reverted < steps) {
      pqxx::work tx(*conn, "migrate_down");
      lock(tx);
      ensure_table(tx);
      const db_version current = read_version(tx);
      refuse_dirty(current);
      if (!current.version) {
        tx.commit();
        break; // nothing left to revert
      }
      auto it = files.find(*current.version);
      if (it == files.end())
        fail("the database is at version " + std::to_string(*current.version) +
             ", which has no file in '" + dir_ + "'");
      if (it->second.down.empty())
        fail("migration " + label(it->second) + " has no .down.sql file");
      std::optional<std::int64_t> previous;
      if (it != files.begin()) previous = std::prev(it)->first;
      apply(tx, it->second.down, "reverting " + label(it->second), previous);
      ++reverted;
    }
    return reverted;
  });
}

std::vector<migration_state> migrator::status() {
  const catalogue files = read_folder(dir_);
  return guarded("status", [&] {
    auto conn = connect(database_url_, settings_);
    pqxx::read_transaction tx(*conn, "migrate_status");
    const db_version current = read_version(tx);
    refuse_dirty(current);
    std::vector<migration_state> out;
    out.reserve(files.size());
    for (const auto &[version, mf] : files)
      out.push_back({version, mf.name, current.version && version <= *current.version});
    return out;
  });
}

} // namespace flashsale::persistence
