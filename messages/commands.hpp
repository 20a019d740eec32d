#pragma once
// Commands and replies between the actors and persistence. Plain data, no I/O.

#include "messages/api_error.hpp"
#include "messages/create_order.hpp"
#include "messages/events.hpp"
#include "messages/order.hpp"
#include "messages/shard.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flashsale {

/// Persist a new order, its items and its ORDER_CREATED event, unless the same user
/// already used the idempotency key.
struct create_command {
  order fresh; // id, status CREATED, times and deadline already set
  std::string idempotency_key;
  std::string fingerprint; // request_fingerprint() of the request
  outgoing_event created_event;
  /// Unix ms after which the writer must no longer commit it: checked before its batch
  /// begins and again right before COMMIT; past it, the batch rolls back and this create
  /// is answered 503, known not committed (CONTRACT §3 "Overload"). 0: none.
  std::int64_t commit_by_ms = 0;
  /// Set by the HTTP layer once the client's connection is gone: no answer can reach it,
  /// so the create must not commit (checked at the same points). Null: never.
  std::shared_ptr<const std::atomic<bool>> client_gone;
  /// The new order's shard and the epoch this node holds it under: refused (fenced)
  /// when another node acquired the shard since.
  shard_fence fence;
};

enum class create_status { created, replayed, key_reused, failed, fenced };

struct create_outcome {
  create_status status = create_status::failed;
  order stored;    // the order as committed (the earlier one for replayed)
  api_error error; // for failed: unavailable or internal_error
};

/// A guarded change of one order: the status moves from `expected` to `next` only if
/// the row still says `expected`; the event and the inbox row commit with it.
struct write_command {
  std::string order_id;
  order_status expected = order_status::created;
  order_status next = order_status::created; // == expected: no status change
  std::string reason;
  std::optional<std::int64_t> deadline; // Unix seconds of the new state's deadline
  std::int64_t now_ms = 0;
  std::optional<outgoing_event> event;
  std::string inbox_event_id;   // incoming event id, empty when none
  std::string inbox_event_type;
  /// A hold (CONTRACT §5, an event that came before its order can take it): with the
  /// inbox row, this text (encode_incoming) goes into early_events under the inbox id,
  /// if the guarded UPDATE applies. Empty: no hold.
  std::string hold_body;
  /// The replay of a held event: its early_events row is deleted instead of an inbox
  /// row inserted (the hold inserted that), and the command applies only if the row
  /// was still there (else duplicate). Empty: none.
  std::string release_event_id;
  /// The order's shard and the epoch its writer holds it under (see create_command).
  shard_fence fence;
};

/// An event held in early_events, as the order actor replays it.
struct held_event {
  std::string event_id;
  std::string body; // encode_incoming text
};

enum class write_status {
  applied,   // committed
  stale,     // the row's status is no longer `expected`: nothing written
  duplicate, // the inbox already holds the event id: nothing written
  not_found, // no such order
  fenced,    // the writer's epoch is no longer the shard's: another node owns it now
  failed,    // database error (see error)
};

struct write_outcome {
  write_status status = write_status::failed;
  api_error error;
};

struct list_query {
  std::string user_id;
  int limit = 20;
  int offset = 0;
};

} // namespace flashsale
