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

event_header_list event_headers(const event_header_input& in) {
  event_header_list h;
  constexpr std::size_t header_count = 9;
  h.reserve(header_count);
  h.emplace_back("event_type", in.event_type);
  h.emplace_back("ce_specversion", cloud_events::spec_version);
  h.emplace_back("ce_id", in.event_id);
  h.emplace_back("ce_type", in.event_type);
  h.emplace_back("ce_source", cloud_events::source);
  auto time = occurred_at_of(in.envelope);
  if (!time.empty())
    h.emplace_back("ce_time", time);
  h.emplace_back("ce_subject", in.order_id);
  h.emplace_back("content-type", cloud_events::content_type);
  if (!in.traceparent.empty())
    h.emplace_back("traceparent", in.traceparent);
  return h;
}

} // namespace flashsale
