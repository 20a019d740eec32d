#pragma once
// What an incoming saga event does to an order in a given status, including the events
// that come before their order can take them (CONTRACT §5): pure, no I/O.

#include "messages/order_status.hpp"

#include <string_view>

namespace flashsale {

enum class saga_step {
  apply,  // the transition table allows it: transition (and its event)
  reject, // a payment for an order that ended unpaid: ORDER_PAYMENT_REJECTED
  hold,   // would be allowed once the event it follows is applied: keep it for then
  ignore, // never allowed from here on (or no transition at all): no effect
};

/// Inventory and payment events travel on different topics, which Kafka does not order
/// against each other: a PAYMENT_INTENT_CREATED may overtake the INVENTORY_RESERVED it
/// follows, and a payment answer may overtake its intent. Those wait (hold); everything
/// else is decided by the transition table at once.
saga_step saga_step_for(std::string_view event_type, order_status current);

} // namespace flashsale
