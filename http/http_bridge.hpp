#pragma once
// The HTTP bridge: takes a parsed request with its reply_sink, asks the actor that
// owns the work, and answers through the sink when the reply arrives.

#include "actors/order/order_protocol.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <cstddef>

namespace flashsale {

struct bridge_targets {
  order_api orders;    // commands about one order (the router)
  caf::actor writers;  // new orders (group commit)
  caf::actor readers;  // lists
  /// Every request but a create is answered 503 after this (the reply may still come).
  std::chrono::milliseconds timeout{5000};
  /// A create must reach its COMMIT this long before `timeout` ends, or the writer rolls
  /// it back and answers 503. The bridge waits for the writer's answer to a create,
  /// however long: only the writer knows whether it committed (CONTRACT §3 "Overload").
  std::chrono::milliseconds commit_margin{1000};
};

/// A round-robin pool of `count` bridge actors. Handles, each with a trailing
/// reply_sink_ptr and no reply:
///   (create_atom, create_command), (fetch_atom, std::string id, std::string caller),
///   (cancel_atom, std::string id, std::string reason, std::string user_id,
///    std::string traceparent),
///   (list_atom, list_query).
/// `caller` and `user_id` are the normalised X-User-Id, empty when not given: a get of
/// another user's order is answered 403 (CONTRACT §3 "Ownership"). `traceparent` is
/// the request's span (messages/trace_context.hpp), for the event a cancel emits.
caf::actor spawn_http_bridge(caf::actor_system& sys, bridge_targets targets, std::size_t count);

} // namespace flashsale
