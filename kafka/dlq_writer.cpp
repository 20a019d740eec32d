#include "kafka/dlq_writer.hpp"

namespace flashsale::kafka {

std::unique_ptr<dlq_writer> dlq_writer::create(const std::string& brokers, std::string topic,
                                               delivered_handler on_delivered,
                                               failed_handler on_failed, std::string& error) {
  std::unique_ptr<dlq_writer> w{new dlq_writer};
  w->topic_ = std::move(topic);
  w->on_delivered_ = std::move(on_delivered);
  w->on_failed_ = std::move(on_failed);
  producer_settings ps;
  ps.brokers = brokers;
  ps.client_id = "flashsale-order-dlq";
  auto* self = w.get();
  w->producer_ = producer::create(
    ps, [self](const delivery_report& r) { self->on_report(r); },
    [self](log_severity sev, const std::string& fac, const std::string& text) {
      if ((sev == log_severity::error || sev == log_severity::warning) && self->on_failed_)
        self->on_failed_("kafka dlq producer " + fac + ": " + text);
    },
    error);
  if (!w->producer_)
    return nullptr;
  return w;
}

std::uint64_t dlq_writer::write(const consumed_message& m, const std::string& reason) {
  copy c;
  if (m.key)
    c.key = *m.key;
  c.value = m.value;
  c.headers = m.headers;
  c.headers.push_back({"dlq_reason", reason});
  c.headers.push_back({"source_topic", m.topic});
  c.headers.push_back({"source_partition", std::to_string(m.partition)});
  c.headers.push_back({"source_offset", std::to_string(m.offset)});
  c.source_topic = m.topic;
  c.source_partition = m.partition;
  auto token = next_token_++;
  copies_.emplace(token, std::move(c));
  pump();
  return token;
}

void dlq_writer::pump() {
  for (auto& [token, c] : copies_) {
    if (c.queued)
      continue;
    if (auto refused = producer_->produce(topic_, c.key, c.value, c.headers, token)) {
      if (on_failed_)
        on_failed_("DLQ copy refused, retrying: " + refused->error);
      continue;
    }
    c.queued = true;
  }
}

void dlq_writer::poll() {
  producer_->poll(std::chrono::milliseconds{0});
}

int dlq_writer::flush(std::chrono::milliseconds timeout) {
  return producer_->flush(timeout);
}

void dlq_writer::on_report(const delivery_report& r) {
  auto i = copies_.find(r.token);
  if (i == copies_.end())
    return;
  if (r.ok) {
    copies_.erase(i);
    if (on_delivered_)
      on_delivered_(r.token);
    return;
  }
  i->second.queued = false;
  if (on_failed_)
    on_failed_("DLQ copy not delivered, retrying: " + r.error);
}

} // namespace flashsale::kafka
