#include "kafka/producer.hpp"

#include "kafka/client_conf.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <cstdio>

namespace flashsale::kafka {

namespace {

std::string format_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", ms);
  return buf;
}

bool is_connection_error(RdKafka::ErrorCode err) {
  return err == RdKafka::ERR__TRANSPORT || err == RdKafka::ERR__ALL_BROKERS_DOWN
         || err == RdKafka::ERR__RESOLVE;
}

/// Errors of the message itself, which no broker will ever accept; every other error
/// (brokers down, unknown topic or partition, timeouts, leader changes) may pass.
bool is_permanent(RdKafka::ErrorCode err) {
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG:
    case RdKafka::ERR_INVALID_MSG_SIZE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
      return true;
    default:
      return false;
  }
}

log_severity severity_for(const std::string& facility, int syslog_level) {
  // CONFWARN: a property we chose on purpose is experimental (the gapless guarantee).
  if (facility == "CONFWARN")
    return log_severity::debug;
  // FAIL: a broker connection failed; librdkafka reconnects by itself.
  if (facility == "FAIL")
    return log_severity::warning;
  if (syslog_level <= 3)
    return log_severity::error;
  if (syslog_level == 4)
    return log_severity::warning;
  if (syslog_level <= 6)
    return log_severity::info;
  return log_severity::debug;
}

} // namespace

struct producer::impl : RdKafka::DeliveryReportCb, RdKafka::EventCb {
  report_handler on_report;
  log_handler on_log;
  std::unique_ptr<RdKafka::Producer> handle;

  void dr_cb(RdKafka::Message& m) override {
    delivery_report r;
    r.token = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m.msg_opaque()));
    r.ok = m.err() == RdKafka::ERR_NO_ERROR;
    r.error_code = m.err();
    if (!r.ok) {
      r.error = m.errstr();
      r.permanent = is_permanent(m.err());
    }
    r.partition = m.partition();
    r.offset = m.offset();
    if (on_report)
      on_report(r);
  }

  void event_cb(RdKafka::Event& e) override {
    if (!on_log)
      return;
    switch (e.type()) {
      case RdKafka::Event::EVENT_ERROR:
        // Connection failures also arrive as FAIL log lines; say them once.
        if (e.fatal() || !is_connection_error(e.err()))
          on_log(e.fatal() ? log_severity::error : log_severity::warning, "ERROR",
                 RdKafka::err2str(e.err()) + ": " + e.str());
        break;
      case RdKafka::Event::EVENT_LOG:
        on_log(severity_for(e.fac(), e.severity()), e.fac(), e.str());
        break;
      default:
        break;
    }
  }
};

producer::producer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

producer::~producer() {
  if (impl_ && impl_->handle) {
    // Nothing may be reported into a dead owner: drop what is left, then destroy.
    impl_->on_report = nullptr;
    impl_->handle->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    impl_->handle->flush(0);
  }
}

std::unique_ptr<producer> producer::create(const producer_settings& s, report_handler on_report,
                                           log_handler on_log, std::string& error) {
  auto p = std::make_unique<impl>();
  p->on_report = std::move(on_report);
  p->on_log = std::move(on_log);
  auto conf = make_conf(
    s.brokers, s.client_id,
    {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"enable.gapless.guarantee", s.gapless ? "true" : "false"},
      {"max.in.flight.requests.per.connection", std::to_string(s.max_in_flight)},
      {"message.max.bytes", std::to_string(s.message_max_bytes)},
      {"linger.ms", format_ms(s.linger_ms)},
      {"message.timeout.ms", std::to_string(s.message_timeout_ms)},
      // Java-compatible key hashing, so other producers of the same keys agree.
      {"partitioner", "murmur2_random"},
    },
    s.extra, error);
  if (!conf)
    return nullptr;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(p.get()), error)
        != RdKafka::Conf::CONF_OK
      || conf->set("event_cb", static_cast<RdKafka::EventCb*>(p.get()), error)
           != RdKafka::Conf::CONF_OK)
    return nullptr;
  p->handle.reset(RdKafka::Producer::create(conf.get(), error));
  if (!p->handle)
    return nullptr;
  return std::unique_ptr<producer>{new producer{std::move(p)}};
}

std::optional<std::string> producer::warm_up(const std::string& topic,
                                             std::chrono::milliseconds timeout) {
  std::string error;
  std::unique_ptr<RdKafka::Topic> t{
    RdKafka::Topic::create(impl_->handle.get(), topic, nullptr, error)};
  if (!t)
    return error;
  RdKafka::Metadata* md = nullptr;
  auto err = impl_->handle->metadata(false, t.get(), &md, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> owned{md};
  if (err != RdKafka::ERR_NO_ERROR)
    return RdKafka::err2str(err);
  return std::nullopt;
}

std::optional<delivery_report> producer::produce(const std::string& topic, std::string_view key,
                                                 std::string_view value,
                                                 const std::vector<header>& headers,
                                                 std::uint64_t token) {
  auto* h = RdKafka::Headers::create();
  for (const auto& hd : headers)
    h->add(hd.name, hd.value);
  return produce_with(topic, key, value, h, token);
}

std::optional<delivery_report> producer::produce_viewed(const std::string& topic,
                                                        std::string_view key,
                                                        std::string_view value,
                                                        const event_header_views& headers,
                                                        std::uint64_t token) {
  auto* h = RdKafka::Headers::create();
  for (std::size_t i = 0; i < headers.count; ++i) {
    const auto& hd = headers.items[i];
    h->add(std::string{hd.name}, hd.value.data(), hd.value.size()); // names fit in SSO
  }
  return produce_with(topic, key, value, h, token);
}

std::optional<delivery_report> producer::produce_with(const std::string& topic,
                                                      std::string_view key,
                                                      std::string_view value,
                                                      RdKafka::Headers* h, std::uint64_t token) {
  auto err =
    impl_->handle->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                           h, reinterpret_cast<void*>(static_cast<std::uintptr_t>(token)));
  if (err == RdKafka::ERR_NO_ERROR)
    return std::nullopt; // librdkafka owns the headers now
  delete h;
  delivery_report r;
  r.token = token;
  r.error_code = err;
  r.error = RdKafka::err2str(err);
  r.permanent = is_permanent(err);
  return r;
}

int producer::flush(std::chrono::milliseconds timeout) {
  impl_->handle->flush(static_cast<int>(timeout.count()));
  return outstanding();
}

void producer::poll(std::chrono::milliseconds timeout) {
  impl_->handle->poll(static_cast<int>(timeout.count()));
}

int producer::outstanding() const {
  return impl_->handle->outq_len();
}

void producer::purge() {
  impl_->handle->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
}

std::optional<std::string> producer::fatal_error() const {
  std::string text;
  if (impl_->handle->fatal_error(text) == RdKafka::ERR_NO_ERROR)
    return std::nullopt;
  return text;
}

} // namespace flashsale::kafka
