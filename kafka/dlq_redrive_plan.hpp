#pragma once
// What `flashsale-order dlq replay` does with one dead-letter message (CONTRACT §1, §5):
// pure, no I/O (kafka/dlq_redrive.cpp reads and produces; unit tested on its own).
//
// A replayed message goes back to its source_topic with its key, its value and its
// original headers; the DLQ's own headers (dlq_reason, source_*, dlq_truncated) are
// dropped and dlq_redrive_count says how often it has been replayed. Replaying is safe
// because the consumer deduplicates incoming events by event_id.

#include "kafka/producer.hpp"

#include <optional>
#include <string>
#include <vector>

namespace flashsale::kafka {

constexpr const char* redrive_count_header = "dlq_redrive_count";

struct redrive_options {
  int max_redrives = 3; // DLQ_MAX_REDRIVES (app/config.hpp): beyond it, refused
  std::string reason;   // replay only messages with this dlq_reason code; empty: all
};

struct redrive_plan {
  enum action { replay, pass_over, refuse } what = refuse;
  std::string why;          // pass_over and refuse: the reason, for the report
  std::string source_topic; // where it came from (and goes back to)
  std::string dlq_reason;
  int redrive_count = 0;    // replays before this one
  std::vector<header> headers; // replay: what the message is sent back with
};

/// The plan for the DLQ message with `headers`. Refused (reported and skipped): no or an
/// unknown source_topic (only the topics the service consumes are written to), a value
/// cut to fit the DLQ (dlq_truncated), a malformed dlq_redrive_count, or one at
/// max_redrives. Passed over: another dlq_reason than asked for.
redrive_plan plan_redrive(const std::vector<header>& headers, const redrive_options& options);

} // namespace flashsale::kafka
