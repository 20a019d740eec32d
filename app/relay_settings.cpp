#include "app/relay_settings.hpp"

namespace flashsale {

persistence::pg_limits database_limits(const config& cfg) {
  persistence::pg_limits l;
  l.connect_timeout = cfg.db_connect_timeout;
  l.statement_timeout = cfg.db_statement_timeout;
  l.tcp_user_timeout = cfg.db_tcp_user_timeout;
  l.keepalives_idle = cfg.db_keepalive_idle;
  l.call_grace = db_call_grace; // budgets_of(cfg).db_call = statement_timeout + this
  return l;
}

relay_settings relay_settings_from(const config& cfg) {
  relay_settings s;
  s.database_url = cfg.database_url;
  s.db_limits = database_limits(cfg);
  s.kafka_brokers = cfg.kafka_brokers;
  s.relays = static_cast<std::size_t>(cfg.outbox_relays);
  s.batch = static_cast<std::size_t>(cfg.outbox_batch);
  s.retention = cfg.outbox_retention;
  s.poll_interval = cfg.outbox_poll;
  return s;
}

} // namespace flashsale
