#pragma once
// The database probe behind /readyz: its own connection with short bounds, so that it
// tells within seconds that the database stopped answering and never waits on a
// connection the writers are stuck on. A probe is cut after 1 s (statement timeout and
// TCP user timeout), so a blackholed database (no error, no answer) shows as down.

#include <memory>
#include <string>

namespace flashsale::persistence {

class pg_session;

class db_probe {
public:
  explicit db_probe(std::string database_url);
  ~db_probe();
  db_probe(const db_probe&) = delete;
  db_probe& operator=(const db_probe&) = delete;

  /// One `SELECT 1`; false on any failure (the next call connects again).
  bool reachable();

private:
  std::unique_ptr<pg_session> db_;
};

} // namespace flashsale::persistence
