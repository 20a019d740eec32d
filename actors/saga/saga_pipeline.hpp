#pragma once
// The saga consumer's decisions as a plain value (DESIGN.md "Saga consumer"): what a
// consumed message becomes, which event goes to its order next, what an answer means
// for the offsets, the retries and the DLQ, and what a rebalance or a new client
// changes. The actor (kafka_consumer.cpp) performs what it returns: requests to the
// orders, retry timers, DLQ copies, offset commits. No CAF, no I/O.
//
// Each request carries a ticket and an answer counts only for the request it answers:
// after a new client (on_restart) or a revoke, the copy of an event read again may wait
// behind its predecessor that is still out, but is never taken for it.

#include "actors/saga/flow_gate.hpp"
#include "actors/saga/offset_tracker.hpp"
#include "actors/saga/order_chains.hpp"
#include "kafka/consumer_client.hpp"
#include "messages/events.hpp"
#include "messages/replies.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace flashsale {

/// dlq_reason of an event whose write the database rejected (also at a held event's replay).
inline constexpr const char* rejected_dlq_reason =
  "rejected_by_database: the database refused the event's write (a value it does not accept)";

/// The doubling delay between deliveries of a failed event.
struct retry_backoff {
  std::chrono::milliseconds base{100}; // first retry
  std::chrono::milliseconds max{5000}; // the doubling stops here
  std::chrono::milliseconds after(int attempts) const;
};

struct saga_pipeline_settings {
  /// Consumed messages not yet handled, at most: consumption pauses there (flow_gate).
  std::size_t max_in_flight = 5000;
  /// Events out at the orders at once, at most; the others wait.
  std::size_t max_dispatched = 1000;
  retry_backoff retry;
};

/// An event to send to its order now; its answer goes to on_reply with this ticket.
struct saga_request {
  std::uint64_t ticket = 0;
  incoming_event event;
};

/// A message to copy to the DLQ; the writer's token goes back with dlq_sent().
struct saga_dlq_copy {
  kafka::consumed_message message;
  std::string reason;
  offset_ref ref;
  std::chrono::steady_clock::time_point consumed_at;
};

/// What the actor does after a step.
struct saga_actions {
  std::vector<saga_request> send;          // each to its order, now
  std::optional<std::string> retry_order;  // on_retry(order) after retry_after
  std::chrono::milliseconds retry_after{0};
  int attempts = 0;                        // with retry_order: failed deliveries so far
  std::optional<saga_dlq_copy> dlq;        // copy to the DLQ
  std::optional<event_status> outcome;     // a handled event, to count
  std::optional<double> handled_seconds;   // consumed to durably handled
  bool stale_answer = false;               // an answer to a request no longer current
};

/// What a consumed message became.
struct saga_intake {
  enum kind {
    not_ours,     // partition not assigned (or offset pending already): nothing
    poison,       // not decodable: copy `dlq` to the DLQ
    unknown_type, // skipped and done
    queued,       // in its order's chain; `send` is what goes out now
  } what = not_ours;
  std::optional<saga_dlq_copy> dlq;
  std::string order_id;   // unknown_type, queued
  std::string event_type; // unknown_type, queued
  std::string traceparent; // unknown_type, queued: our span of the event's trace
  std::vector<saga_request> send;
};

class saga_pipeline {
public:
  explicit saga_pipeline(saga_pipeline_settings settings = {});

  // -- messages and answers --------------------------------------------------------

  saga_intake on_message(kafka::consumed_message m, std::chrono::steady_clock::time_point now);

  /// The answer to the request with `ticket` for the order's front event.
  saga_actions on_reply(const std::string& order_id, std::uint64_t ticket,
                        const event_reply& reply, std::chrono::steady_clock::time_point now);

  /// A retry timer for the order fired.
  saga_actions on_retry(const std::string& order_id);

  /// The DLQ writer took a copy under `token`.
  void dlq_sent(std::uint64_t token, offset_ref ref,
                std::chrono::steady_clock::time_point consumed_at);

  /// The DLQ acknowledged (or refused for good) the copy: its message is done. The
  /// seconds from consumption when it counted; nothing for an unknown or stale token.
  std::optional<double> dlq_done(std::uint64_t token, std::chrono::steady_clock::time_point now);

  /// Where the DLQ copy under `token` came from, when it is still pending.
  const offset_ref* dlq_source(std::uint64_t token) const;

  // -- partitions and clients ------------------------------------------------------

  void on_assign(const std::vector<partition_id>& partitions);

  /// Positions to commit now for the partitions `wanted` accepts (all when empty).
  std::vector<std::pair<partition_id, std::int64_t>>
  commits(const std::set<partition_id>& only = {}) const;

  /// A commit of `offset` for `p` succeeded.
  void committed(const partition_id& p, std::int64_t offset) { offsets_.committed(p, offset); }

  /// Forgets revoked partitions (commit their commits() first unless the session was
  /// lost): their waiting events go, a front that is out is dropped at its answer.
  void on_revoke(const std::set<partition_id>& revoked);

  /// A new client: nothing assigned, nothing waits; a front still out stays until its
  /// answer comes, so that its order's next request waits for it.
  void on_restart();

  // -- flow control and gauges -----------------------------------------------------

  flow_gate& flow() { return flow_; }
  const flow_gate& flow() const { return flow_; }
  std::size_t in_flight() const { return offsets_.in_flight(); }
  std::size_t out() const { return slots_.taken(); }
  std::vector<std::pair<partition_id, std::int64_t>> positions() const {
    return offsets_.positions();
  }

private:
  struct work {
    offset_ref ref;
    std::chrono::steady_clock::time_point consumed_at;
    incoming_event event;
    int attempts = 0;
    kafka::consumed_message source;
    std::uint64_t ticket = 0; // the request it is out with; 0 while it waits
  };

  void dispatch(const std::string& order_id, std::vector<saga_request>& out);
  void pump_waiting(std::vector<saga_request>& out);
  std::optional<double> mark_done(const offset_ref& ref,
                                  std::chrono::steady_clock::time_point consumed_at,
                                  std::chrono::steady_clock::time_point now);

  saga_pipeline_settings cfg_;
  offset_tracker offsets_;
  order_chains<work> chains_;
  dispatch_slots slots_;
  flow_gate flow_;
  std::uint64_t next_ticket_ = 1;
  std::unordered_map<std::uint64_t, std::pair<offset_ref, std::chrono::steady_clock::time_point>>
    dlq_;
};

} // namespace flashsale
