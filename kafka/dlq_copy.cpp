#include "kafka/dlq_copy.hpp"

#include "messages/trace_context.hpp"

#include <iterator>

namespace flashsale::kafka {

namespace {

constexpr const char* truncated_header = "dlq_truncated";

/// Kafka's record batch v2: the batch header, and per record its length, attributes,
/// timestamp and offset deltas, key and value lengths and header count as varints (at
/// most 5 bytes each, 10 for the timestamp); per header two more lengths.
constexpr std::size_t batch_overhead = 61;
constexpr std::size_t record_overhead = 5 + 1 + 10 + 5 + 5 + 5 + 5;
constexpr std::size_t header_overhead = 5 + 5;

void drop_truncated_header(dlq_copy& c) {
  for (auto i = c.headers.begin() + static_cast<std::ptrdiff_t>(c.original_headers);
       i != c.headers.end();)
    i = i->name == truncated_header ? c.headers.erase(i) : std::next(i);
}

} // namespace

std::size_t dlq_wire_size(const dlq_copy& c) {
  auto n = batch_overhead + record_overhead + c.key.size() + c.value.size();
  for (const auto& h : c.headers)
    n += header_overhead + h.name.size() + h.value.size();
  return n;
}

bool fit_dlq_copy(dlq_copy& c, std::size_t max_bytes) {
  if (dlq_wire_size(c) <= max_bytes)
    return false;
  auto original = c.value.size();
  c.headers.push_back({truncated_header, std::to_string(original)});
  auto size = dlq_wire_size(c);
  if (size > max_bytes && size - max_bytes <= c.value.size()) {
    c.value.resize(c.value.size() - (size - max_bytes));
    return true;
  }
  strip_dlq_copy(c, original);
  if (dlq_wire_size(c) > max_bytes)
    c.key.clear();
  return true;
}

void strip_dlq_copy(dlq_copy& c, std::size_t original_value_size) {
  c.value.clear();
  // The trace survives the cut (CONTRACT §5: a DLQ copy keeps the event's traceparent):
  // a valid one is 55 bytes, where the headers that made the copy too large are not.
  std::optional<header> trace;
  for (std::size_t i = 0; i < c.original_headers; ++i)
    if (c.headers[i].name == "traceparent" && parse_traceparent(c.headers[i].value))
      trace = c.headers[i];
  c.headers.erase(c.headers.begin(),
                  c.headers.begin() + static_cast<std::ptrdiff_t>(c.original_headers));
  c.original_headers = 0;
  drop_truncated_header(c);
  if (trace)
    c.headers.push_back(std::move(*trace));
  c.headers.push_back({truncated_header, std::to_string(original_value_size)});
}

} // namespace flashsale::kafka
