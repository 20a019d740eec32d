#include "kafka/broker_probe.hpp"

#include <librdkafka/rdkafkacpp.h>

namespace flashsale::kafka {

struct broker_probe::impl {
  std::unique_ptr<RdKafka::Producer> client;
};

broker_probe::broker_probe(const std::string& brokers) : impl_(std::make_unique<impl>()) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
  conf->set("bootstrap.servers", brokers, err);
  conf->set("client.id", "flashsale-order-health", err);
  conf->set("log_level", "0", err); // reachability is the probe's answer, not log noise
  impl_->client.reset(RdKafka::Producer::create(conf.get(), err));
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
