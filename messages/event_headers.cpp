#include "messages/event_headers.hpp"

namespace flashsale {

std::string_view occurred_at_of(std::string_view envelope) {
  constexpr std::string_view key = R"("occurred_at":")";
  auto at = envelope.find(key);
  if (at == std::string_view::npos)
    return {};
  auto begin = at + key.size();
  auto end = envelope.find('"', begin);
  if (end == std::string_view::npos)
    return {};
  return envelope.substr(begin, end - begin);
}

event_header_views event_header_views_of(const event_header_input& in) {
  event_header_views h;
  auto add = [&h](std::string_view name, std::string_view value) {
    h.items[h.count++] = {name, value};
  };
  add("event_type", in.event_type);
  add("ce_specversion", cloud_events::spec_version);
  add("ce_id", in.event_id);
  add("ce_type", in.event_type);
  add("ce_source", cloud_events::source);
  auto time = occurred_at_of(in.envelope);
  if (!time.empty())
    add("ce_time", time);
  add("ce_subject", in.order_id);
  add("content-type", cloud_events::content_type);
  if (!in.traceparent.empty())
    add("traceparent", in.traceparent);
  return h;
}

} // namespace flashsale
