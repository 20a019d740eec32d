#pragma once
// The outbox relay's log lines about its batches, apart from its loop.

#include "actors/outbox/relay_batch.hpp"

#include <chrono>
#include <cstddef>

namespace flashsale {

/// When a batch reached each step, for its debug line.
struct batch_times {
  std::chrono::steady_clock::time_point started, claimed, produced, delivered;
};

/// Says what a finished batch records for each row that failed, and for each row
/// delivered after an earlier one of its order failed.
void log_batch_record(const batch_record& record,
                      const std::vector<persistence::outbox_row>& rows);

/// Says that a broker refused a record batch and `rows` rows go again alone, the
/// first of them `first`.
void log_refused_batch(std::size_t relay, std::size_t rows, const persistence::outbox_row& first,
                       const std::string& error);

/// The per-batch debug line: its size and how long each step took.
void log_batch_timing(std::size_t relay, const persistence::outbox_claim& claim,
                      const batch_times& t);

} // namespace flashsale
