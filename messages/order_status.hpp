#pragma once
// Order statuses and the transition table of CONTRACT §4, as pure code.

#include <optional>
#include <string>
#include <string_view>

namespace flashsale {

enum class order_status { created, reserved, payment_pending, paid, cancelled, expired };

/// "CREATED", "RESERVED", ... exactly as the contract spells them.
std::string_view to_string(order_status s);
std::optional<order_status> parse_order_status(std::string_view text);
bool is_terminal(order_status s);

/// What can happen to an order.
enum class order_trigger {
  inventory_reserved,     // INVENTORY_RESERVED
  reservation_failed,     // INVENTORY_RESERVATION_FAILED
  payment_intent_created, // PAYMENT_INTENT_CREATED
  payment_succeeded,      // PAYMENT_SUCCEEDED
  payment_failed,         // PAYMENT_FAILED
  user_cancel,            // POST /cancel
  deadline,               // the current state's deadline passed
};

/// Event types the order service produces (CONTRACT §5).
enum class order_event { none, order_created, order_cancelled, order_expired, order_paid,
                         order_payment_rejected };
std::string_view to_string(order_event e);

/// The result of an allowed transition.
struct transition {
  order_status to;
  std::string reason; // set for CANCELLED and EXPIRED, else empty
  order_event emits;  // order_event::none when the transition emits nothing
};

/// Applies the table of CONTRACT §4. `cancel_reason` is used for user_cancel only
/// (USER_CANCEL or STOCK_EXHAUSTED). Returns nullopt when the trigger is not allowed
/// from `from` (terminal states allow nothing).
std::optional<transition> next_transition(order_status from, order_trigger trigger,
                                          std::string_view cancel_reason = "USER_CANCEL");

} // namespace flashsale
