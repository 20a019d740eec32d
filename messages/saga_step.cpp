#include "messages/saga_step.hpp"

#include "messages/events.hpp"

namespace flashsale {

namespace {

bool follows_a_later_state(order_trigger trigger, order_status s) {
  switch (trigger) {
    case order_trigger::payment_intent_created:
      return s == order_status::created;
    case order_trigger::payment_succeeded:
    case order_trigger::payment_failed:
      return s == order_status::created || s == order_status::reserved;
    default:
      return false;
  }
}

} // namespace

saga_step saga_step_for(std::string_view event_type, order_status current) {
  auto trigger = trigger_for(event_type);
  if (!trigger)
    return saga_step::ignore; // INVENTORY_RELEASED, or unknown
  if (next_transition(current, *trigger))
    return saga_step::apply;
  if (*trigger == order_trigger::payment_succeeded
      && (current == order_status::expired || current == order_status::cancelled))
    return saga_step::reject;
  if (follows_a_later_state(*trigger, current))
    return saga_step::hold;
  return saga_step::ignore;
}

} // namespace flashsale
