#include "kafka/dlq_writer.hpp"

#include <optional>

namespace flashsale::kafka {

std::unique_ptr<dlq_writer> dlq_writer::create(const std::string& brokers, std::string topic,
                                               dlq_handlers handlers, std::string& error,
                                               std::size_t max_bytes) {
  std::unique_ptr<dlq_writer> w{new dlq_writer};
  w->brokers_ = brokers;
  w->topic_ = std::move(topic);
  w->max_bytes_ = max_bytes;
  w->handlers_ = std::move(handlers);
  if (!w->make_producer(error))
    return nullptr;
  return w;
}

bool dlq_writer::make_producer(std::string& error) {
  producer_settings ps;
  ps.brokers = brokers_;
  ps.client_id = "flashsale-order-dlq";
  // Copies are independent of each other: one that fails for good must not stop the
  // producer (the gapless guarantee would make that a fatal error).
  ps.gapless = false;
  ps.message_max_bytes = static_cast<int>(max_bytes_);
  producer_.reset(); // its destructor purges: no report of the old one comes later
  producer_ = producer::create(
    ps, [this](const delivery_report& r) { on_report(r); },
    [this](log_severity sev, const std::string& fac, const std::string& text) {
      if ((sev == log_severity::error || sev == log_severity::warning) && handlers_.failed)
        handlers_.failed("kafka dlq producer " + fac + ": " + text);
    },
    error);
  for (auto& [token, c] : copies_)
    c.queued = false;
  return producer_ != nullptr;
}

std::uint64_t dlq_writer::write(const consumed_message& m, const std::string& reason) {
  copy c;
  if (m.key)
    c.msg.key = *m.key;
  c.msg.value = m.value;
  c.msg.headers = m.headers;
  c.msg.original_headers = m.headers.size();
  c.msg.headers.push_back({"dlq_reason", reason});
  c.msg.headers.push_back({"source_topic", m.topic});
  c.msg.headers.push_back({"source_partition", std::to_string(m.partition)});
  c.msg.headers.push_back({"source_offset", std::to_string(m.offset)});
  c.value_size = m.value.size();
  c.source_topic = m.topic;
  c.source_partition = m.partition;
  c.truncated = fit_dlq_copy(c.msg, max_bytes_);
  if (c.truncated && handlers_.failed)
    handlers_.failed("DLQ copy of " + m.topic + "/" + std::to_string(m.partition) + "@"
                     + std::to_string(m.offset) + " truncated: " + std::to_string(m.value.size())
                     + " bytes do not fit in " + std::to_string(max_bytes_));
  auto token = next_token_++;
  copies_.emplace(token, std::move(c));
  pump();
  return token;
}

void dlq_writer::pump() {
  // No producer (its last replacement could not be created) or one stopped for good:
  // make one; until that works the copies wait here.
  std::optional<std::string> fatal;
  if (producer_)
    fatal = producer_->fatal_error();
  if (!producer_ || fatal) {
    if (fatal && handlers_.failed)
      handlers_.failed("DLQ producer stopped (" + *fatal + "), replacing it");
    std::string error;
    if (!make_producer(error)) {
      if (handlers_.failed)
        handlers_.failed("DLQ producer cannot be created: " + error);
      return; // tried again on the next pump
    }
  }
  for (auto i = copies_.begin(); i != copies_.end();) {
    auto& c = i->second;
    if (c.queued) {
      ++i;
      continue;
    }
    auto refused = producer_->produce(topic_, c.msg.key, c.msg.value, c.msg.headers, i->first);
    if (!refused) {
      c.queued = true;
      ++i;
      continue;
    }
    if (refused->permanent) {
      // A whole copy is only stripped here, never given up: so no handler runs inside
      // write(). The stripped one is produced on the next pump.
      auto next = std::next(i);
      refused_for_good(i, refused->error);
      i = next;
      continue;
    }
    if (handlers_.failed)
      handlers_.failed("DLQ copy refused, retrying: " + refused->error);
    ++i;
  }
}

void dlq_writer::poll() {
  if (producer_)
    producer_->poll(std::chrono::milliseconds{0});
}

int dlq_writer::flush(std::chrono::milliseconds timeout) {
  // Without a producer every copy is still unsent.
  return producer_ ? producer_->flush(timeout) : static_cast<int>(copies_.size());
}

void dlq_writer::refused_for_good(std::unordered_map<std::uint64_t, copy>::iterator i,
                                  const std::string& error) {
  auto& c = i->second;
  if (!c.stripped) {
    strip_dlq_copy(c.msg, c.value_size);
    c.stripped = c.truncated = true;
    c.queued = false;
    if (handlers_.failed)
      handlers_.failed("DLQ copy refused for good (" + error
                       + "), sending it once more without value and original headers");
    return;
  }
  auto token = i->first;
  copies_.erase(i);
  if (handlers_.lost)
    handlers_.lost(token, error);
}

void dlq_writer::on_report(const delivery_report& r) {
  auto i = copies_.find(r.token);
  if (i == copies_.end())
    return;
  if (r.ok) {
    bool truncated = i->second.truncated;
    copies_.erase(i);
    if (handlers_.delivered)
      handlers_.delivered(r.token, truncated);
    return;
  }
  i->second.queued = false;
  if (r.permanent) {
    refused_for_good(i, r.error);
    return;
  }
  if (handlers_.failed)
    handlers_.failed("DLQ copy not delivered, retrying: " + r.error);
}

} // namespace flashsale::kafka
