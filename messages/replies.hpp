#pragma once
// The answers actors give each other about orders and events: plain data, no CAF.
// actors/protocol.hpp gives the ones that cross nodes their inspect overloads.

#include "messages/commands.hpp"

#include <string>
#include <utility>
#include <vector>

namespace flashsale {

/// The answer to a command about one order.
struct order_reply {
  bool ok = false;
  order value;
  api_error error;
};

/// The answer to a load from the database: found, missing, or failed.
struct load_reply {
  bool found = false;
  order value;
  bool failed = false;
  api_error error;
  bool has_early = false; // events are held for it (early_events)
};

/// The events held for an order, oldest first; failed: the database did not answer.
struct early_reply {
  bool failed = false;
  std::vector<held_event> events;
};

struct list_reply {
  bool ok = false;
  std::vector<order> orders;
  api_error error;
};

/// What became of an incoming saga event (or an expiry request).
enum class event_status {
  applied,          // the transition (and its event, and the inbox row) committed
  duplicate,        // the event id was processed before: no effect
  ignored,          // not allowed from the current state, or no transition: no effect
  payment_rejected, // a payment for an order that can no longer be paid: ORDER_PAYMENT_REJECTED
  not_found,        // no such order: no effect
  failed,           // not durable (database unavailable): deliver again later
  rejected,         // the database rejected a value of the event: no retry can cure it (DLQ)
  held,             // came before its order can take it: held durably, replayed later
};

struct event_reply {
  event_status status = event_status::failed;
  order_status current = order_status::created; // the order's status afterwards
};

inline order_reply reply_ok(order o) {
  return {true, std::move(o), {}};
}

inline order_reply reply_error(error_code code, std::string message) {
  return {false, {}, {code, std::move(message)}};
}

} // namespace flashsale
