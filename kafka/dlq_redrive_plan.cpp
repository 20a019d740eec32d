#include "kafka/dlq_redrive_plan.hpp"

#include "messages/events.hpp"

#include <charconv>
#include <cstring>

namespace flashsale::kafka {

namespace {

/// The headers the DLQ adds (kafka/dlq_writer.cpp, kafka/dlq_copy.cpp) and ours: never
/// sent back, so a message that fails again gets a fresh set.
bool is_dlq_header(const std::string& name) {
  for (const char* h : {"dlq_reason", "source_topic", "source_partition", "source_offset",
                        "dlq_truncated", redrive_count_header})
    if (name == h)
      return true;
  return false;
}

/// The last value of header `name` (a copy that failed twice keeps only the newest set).
const std::string* find_header(const std::vector<header>& headers, const char* name) {
  const std::string* found = nullptr;
  for (const auto& h : headers)
    if (h.name == name)
      found = &h.value;
  return found;
}

bool is_source_topic(const std::string& topic) {
  return topic == topics::inventory_events || topic == topics::payment_events;
}

std::optional<int> parse_count(const std::string& text) {
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < 0)
    return std::nullopt;
  return n;
}

/// dlq_reason is a code with an optional detail ("not_json: Invalid value."); a filter
/// names the code.
bool reason_matches(const std::string& dlq_reason, const std::string& code) {
  return dlq_reason.compare(0, code.size(), code) == 0
         && (dlq_reason.size() == code.size() || dlq_reason[code.size()] == ':');
}

redrive_plan refused(redrive_plan p, std::string why) {
  p.what = redrive_plan::refuse;
  p.why = std::move(why);
  return p;
}

} // namespace

redrive_plan plan_redrive(const std::vector<header>& headers, const redrive_options& options) {
  redrive_plan p;
  if (const auto* r = find_header(headers, "dlq_reason"))
    p.dlq_reason = *r;
  if (const auto* t = find_header(headers, "source_topic"))
    p.source_topic = *t;
  if (!options.reason.empty() && !reason_matches(p.dlq_reason, options.reason)) {
    p.what = redrive_plan::pass_over;
    p.why = "dlq_reason is not " + options.reason;
    return p;
  }
  if (const auto* c = find_header(headers, redrive_count_header)) {
    auto n = parse_count(*c);
    if (!n)
      return refused(std::move(p), std::string{"malformed "} + redrive_count_header);
    p.redrive_count = *n;
  }
  if (p.source_topic.empty())
    return refused(std::move(p), "no source_topic header");
  if (!is_source_topic(p.source_topic))
    return refused(std::move(p), "source_topic is not a topic the service consumes");
  if (find_header(headers, "dlq_truncated"))
    return refused(std::move(p), "the value was cut to fit the DLQ (dlq_truncated)");
  if (p.redrive_count >= options.max_redrives)
    return refused(std::move(p), "replayed " + std::to_string(p.redrive_count)
                                   + " times already (DLQ_MAX_REDRIVES)");
  for (const auto& h : headers)
    if (!is_dlq_header(h.name))
      p.headers.push_back(h);
  p.headers.push_back({redrive_count_header, std::to_string(p.redrive_count + 1)});
  p.what = redrive_plan::replay;
  return p;
}

} // namespace flashsale::kafka
