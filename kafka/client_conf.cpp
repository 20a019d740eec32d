#include "kafka/client_conf.hpp"

namespace flashsale::kafka {

std::unique_ptr<RdKafka::Conf> make_conf(const std::string& brokers, const std::string& client_id,
                                         const settings_map& props, const settings_map& extra,
                                         std::string& error) {
  settings_map all{
    {"bootstrap.servers", brokers},
    {"client.id", client_id},
    // Come back quickly after a broker outage; the default ends at 10 s.
    {"reconnect.backoff.max.ms", "1000"},
    {"socket.nagle.disable", "true"},
  };
  for (const auto& [k, v] : props)
    all[k] = v;
  for (const auto& [k, v] : extra)
    all[k] = v;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  for (const auto& [k, v] : all)
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK)
      return nullptr;
  return conf;
}

} // namespace flashsale::kafka
