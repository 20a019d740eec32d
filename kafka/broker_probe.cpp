#include "kafka/broker_probe.hpp"

#include "kafka/client_conf.hpp"

#include <librdkafka/rdkafkacpp.h>

namespace flashsale::kafka {

struct broker_probe::impl {
  std::unique_ptr<RdKafka::Producer> client;
};

broker_probe::broker_probe(const std::string& brokers) : impl_(std::make_unique<impl>()) {
  // Reachability is the probe's answer, not log noise. A probe that cannot be made
  // answers "unreachable"; its reason is kept for the health monitor's log.
  auto conf = make_conf(brokers, "flashsale-order-health", {{"log_level", "0"}}, {}, error_);
  if (conf)
    impl_->client.reset(RdKafka::Producer::create(conf.get(), error_));
}

broker_probe::~broker_probe() = default;

bool broker_probe::reachable(std::chrono::milliseconds timeout) {
  if (!impl_->client)
    return false;
  RdKafka::Metadata* md = nullptr;
  auto err = impl_->client->metadata(true, nullptr, &md, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> owned{md};
  return err == RdKafka::ERR_NO_ERROR && md && !md->brokers()->empty();
}

} // namespace flashsale::kafka
