#pragma once
// The dead-letter copy of a message cut down to what the DLQ topic accepts: pure, no
// I/O (kafka/dlq_writer.cpp produces it; unit tested on its own).

#include "kafka/producer.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace flashsale::kafka {

/// A dead-letter copy: the original key, value and headers, then the DLQ headers.
struct dlq_copy {
  std::string key;
  std::string value;
  std::vector<header> headers;
  /// The first this many headers are the original message's; the DLQ's follow.
  std::size_t original_headers = 0;
};

/// The size of `c` as one record in its own record batch, rounded up (Kafka's v2
/// format; what a broker compares with the topic's max.message.bytes and librdkafka
/// with message.max.bytes).
std::size_t dlq_wire_size(const dlq_copy& c);

/// Makes `c` fit in `max_bytes`: nothing changes when it does already; otherwise the
/// value is cut (and, should the headers and key alone be too large, the original
/// headers, then the key go too) and a header dlq_truncated with the original value's
/// size is added. Returns whether it cut anything.
bool fit_dlq_copy(dlq_copy& c, std::size_t max_bytes);

/// Strips `c` to its key, the DLQ headers, the original traceparent (if valid) and
/// dlq_truncated (the original value's size).
void strip_dlq_copy(dlq_copy& c, std::size_t original_value_size);

} // namespace flashsale::kafka
