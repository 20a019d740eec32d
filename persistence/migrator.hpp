#pragma once
// Applies migrations/NNNNNN_name.{up,down}.sql and records them in schema_migrations
// (golang-migrate's layout: one row, version + dirty).

#include <cstdint>
#include <string>
#include <vector>

namespace flashsale::persistence {

struct migration_state {
  std::int64_t version;
  std::string name;
  bool applied;
};

class migrator {
public:
  migrator(std::string database_url, std::string migrations_dir);

  /// Applies every pending migration, each in its own transaction; returns how many.
  int up();
  /// Reverts the newest `steps` applied migrations; returns how many.
  int down(int steps);
  /// Every migration found in the folder, with whether it is applied.
  std::vector<migration_state> status();

private:
  std::string database_url_;
  std::string dir_;
};

} // namespace flashsale::persistence
