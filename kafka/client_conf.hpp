#pragma once
// The librdkafka configuration every client of ours starts from (kafka/ only).

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

namespace flashsale::kafka {

using settings_map = std::map<std::string, std::string>;

/// A global configuration: the settings every client shares (brokers, client id, quick
/// reconnects, no Nagle), then `props`, then `extra` (the operator's, over ours).
/// nullptr, with librdkafka's reason in `error`, when it refuses a setting.
std::unique_ptr<RdKafka::Conf> make_conf(const std::string& brokers, const std::string& client_id,
                                         const settings_map& props, const settings_map& extra,
                                         std::string& error);

} // namespace flashsale::kafka
