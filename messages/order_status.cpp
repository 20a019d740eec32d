#include "messages/order_status.hpp"

#include <array>
#include <utility>

namespace flashsale {

namespace {

constexpr std::array<std::pair<order_status, std::string_view>, 6> status_names{{
  {order_status::created, "CREATED"},
  {order_status::reserved, "RESERVED"},
  {order_status::payment_pending, "PAYMENT_PENDING"},
  {order_status::paid, "PAID"},
  {order_status::cancelled, "CANCELLED"},
  {order_status::expired, "EXPIRED"},
}};

// The event every transition into `to` emits (CONTRACT §5): entering RESERVED or
// PAYMENT_PENDING is internal progress nobody downstream needs to hear about.
order_event event_for(order_status to) {
  switch (to) {
    case order_status::cancelled:
      return order_event::order_cancelled;
    case order_status::expired:
      return order_event::order_expired;
    case order_status::paid:
      return order_event::order_paid;
    default:
      return order_event::none;
  }
}

transition to(order_status target, std::string reason = {}) {
  return transition{target, std::move(reason), event_for(target)};
}

// Each deadline names the state whose clock ran out; an order that never got its
// stock is cancelled, one that held stock or a payment intent expires.
std::optional<transition> on_deadline(order_status from) {
  switch (from) {
    case order_status::created:
      return to(order_status::cancelled, "RESERVATION_TIMEOUT");
    case order_status::reserved:
      return to(order_status::expired, "RESERVATION_TTL");
    case order_status::payment_pending:
      return to(order_status::expired, "PAYMENT_TTL");
    default:
      return std::nullopt;
  }
}

} // namespace

std::string_view to_string(order_status s) {
  for (const auto& [status, name] : status_names)
    if (status == s)
      return name;
  return "UNKNOWN";
}

std::optional<order_status> parse_order_status(std::string_view text) {
  for (const auto& [status, name] : status_names)
    if (name == text)
      return status;
  return std::nullopt;
}

bool is_terminal(order_status s) {
  return s == order_status::paid || s == order_status::cancelled
         || s == order_status::expired;
}

std::string_view to_string(order_event e) {
  switch (e) {
    case order_event::order_created:
      return "ORDER_CREATED";
    case order_event::order_cancelled:
      return "ORDER_CANCELLED";
    case order_event::order_expired:
      return "ORDER_EXPIRED";
    case order_event::order_paid:
      return "ORDER_PAID";
    case order_event::order_payment_rejected:
      return "ORDER_PAYMENT_REJECTED";
    case order_event::none:
      break;
  }
  return "";
}

std::optional<transition> next_transition(order_status from, order_trigger trigger,
                                          std::string_view cancel_reason) {
  using s = order_status;
  switch (trigger) {
    case order_trigger::inventory_reserved:
      if (from == s::created)
        return to(s::reserved);
      break;
    case order_trigger::reservation_failed:
      if (from == s::created)
        return to(s::cancelled, "STOCK_EXHAUSTED");
      break;
    case order_trigger::payment_intent_created:
      if (from == s::reserved)
        return to(s::payment_pending);
      break;
    case order_trigger::payment_succeeded:
      if (from == s::payment_pending)
        return to(s::paid);
      break;
    case order_trigger::payment_failed:
      if (from == s::payment_pending)
        return to(s::cancelled, "PAYMENT_FAILED");
      break;
    case order_trigger::user_cancel:
      if (!is_terminal(from))
        return to(s::cancelled,
                  std::string{cancel_reason.empty() ? "USER_CANCEL" : cancel_reason});
      break;
    case order_trigger::deadline:
      return on_deadline(from);
  }
  return std::nullopt;
}

} // namespace flashsale
