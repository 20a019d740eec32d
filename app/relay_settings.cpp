#include "app/relay_settings.hpp"

namespace flashsale {

relay_settings relay_settings_from(const config& cfg) {
  relay_settings s;
  s.database_url = cfg.database_url;
  s.kafka_brokers = cfg.kafka_brokers;
  s.relays = static_cast<std::size_t>(cfg.outbox_relays);
  s.batch = static_cast<std::size_t>(cfg.outbox_batch);
  s.retention = cfg.outbox_retention;
  s.poll_interval = cfg.outbox_poll;
  return s;
}

} // namespace flashsale
