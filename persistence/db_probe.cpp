#include "persistence/db_probe.hpp"

#include "persistence/pg_session.hpp"

#include <pqxx/pqxx>

namespace flashsale::persistence {

namespace {

pg_limits probe_limits() {
  pg_limits l;
  l.statement_timeout = std::chrono::milliseconds{1000};
  l.call_grace = std::chrono::milliseconds{0};
  l.tcp_user_timeout = std::chrono::milliseconds{1000};
  l.keepalives_idle = std::chrono::seconds{1};
  return l;
}

} // namespace

db_probe::db_probe(std::string database_url)
  : db_(std::make_unique<pg_session>(std::move(database_url), std::chrono::milliseconds{0},
                                     probe_limits())) {
}

db_probe::~db_probe() = default;

bool db_probe::reachable() {
  try {
    db_->with([](pqxx::connection_base& c) {
      pqxx::nontransaction tx{c};
      tx.exec("SELECT 1");
    });
    return true;
  } catch (...) {
    return false;
  }
}

} // namespace flashsale::persistence
