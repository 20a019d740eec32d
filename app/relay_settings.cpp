#include "app/relay_settings.hpp"

namespace flashsale {

persistence::pg_limits database_limits(const config& cfg) {
  persistence::pg_limits l = cfg.db;
  l.call_grace = db_call_grace; // budgets_of(cfg).db_call = statement_timeout + this
  return l;
}

relay_settings relay_settings_from(const config& cfg) {
  relay_settings s = cfg.outbox;
  s.database_url = cfg.database_url;
  s.db_limits = database_limits(cfg);
  s.kafka_brokers = cfg.kafka_brokers;
  return s;
}

} // namespace flashsale
