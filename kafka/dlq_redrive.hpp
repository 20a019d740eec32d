#pragma once
// `flashsale-order dlq list|replay` (CONTRACT §1): reads order.v1.dlq in a consumer group
// of its own (DLQ_GROUP_ID) from where the last replay stopped to the end of every
// partition. `replay` sends each message back to its source_topic (kafka/dlq_redrive_plan)
// and, once every copy is acknowledged, commits the group's offsets past what it handled,
// so a rerun does not send them again. `list` and `--dry-run` send and commit nothing.

#include "kafka/consumer_client.hpp"
#include "kafka/dlq_redrive_plan.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace flashsale::kafka {

struct dlq_run_settings {
  std::string brokers;
  std::string topic;    // order.v1.dlq
  std::string group_id; // the replay's progress
  redrive_options options;
  bool replay = false;   // list when false
  bool dry_run = false;  // replay: report, send and commit nothing
  std::size_t limit = 0; // messages to look at, 0 = all
  /// How long to wait for the group's partitions, and for the next message or the end of
  /// a partition, before giving up.
  std::chrono::milliseconds wait{30000};
};

/// One message looked at, and what became of it.
struct dlq_entry {
  consumed_message msg;
  redrive_plan plan;
  /// "listed", "would_replay", "replayed", "passed_over", "refused", "failed"
  std::string outcome;
};

struct dlq_run_result {
  std::size_t seen = 0, replayed = 0, passed_over = 0, refused = 0, failed = 0;
  std::optional<std::string> error; // the run stopped early (nothing committed past it)
};

dlq_run_result run_dlq(const dlq_run_settings& settings,
                       const std::function<void(const dlq_entry&)>& report);

} // namespace flashsale::kafka
