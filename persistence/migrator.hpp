#pragma once
// Applies migrations/NNNNNN_name.{up,down}.sql and records them in schema_migrations
// (golang-migrate's layout: one row, version + dirty).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace flashsale::persistence {

struct migration_state {
  std::int64_t version;
  std::string name;
  bool applied;
};

// How long `migrate` waits for a database that does not accept connections yet (a
// container started next to PostgreSQL, or a server still in its init phase).
struct migrate_settings {
  std::chrono::seconds database_wait{60};           // MIGRATE_DATABASE_WAIT_S; 0: try once
  std::chrono::milliseconds retry_interval{500};    // between connection attempts
};

class migrator {
public:
  migrator(std::string database_url, std::string migrations_dir, migrate_settings settings = {});

  /// Applies every pending migration, each in its own transaction; returns how many.
  int up();
  /// Reverts the newest `steps` applied migrations; returns how many.
  int down(int steps);
  /// Every migration found in the folder, with whether it is applied.
  std::vector<migration_state> status();

private:
  std::string database_url_;
  std::string dir_;
  migrate_settings settings_;
};

} // namespace flashsale::persistence
