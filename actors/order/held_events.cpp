#include "actors/order/held_events.hpp"

#include <utility>
#include <variant>

namespace flashsale {

held_events held_events::decode(const std::string& order_id, const std::vector<held_event>& rows,
                                std::vector<std::string>& undecodable) {
  held_events held;
  for (const auto& row : rows) {
    auto decoded = decode_incoming(row.body);
    if (auto* ev = std::get_if<incoming_event>(&decoded)) {
      held.events_.push_back(std::move(*ev));
      continue;
    }
    undecodable.push_back(row.event_id);
    incoming_event bad;
    bad.event_id = row.event_id;
    bad.order_id = order_id;
    held.events_.push_back(std::move(bad));
  }
  return held;
}

std::optional<held_events::pick> held_events::next(order_status current) const {
  for (std::size_t i = 0; i < events_.size(); ++i) {
    auto step = saga_step_for(events_[i].event_type, current);
    if (step != saga_step::hold) // else still ahead of its order
      return pick{i, step};
  }
  return std::nullopt;
}

held_events held_events::without(std::size_t i) const {
  held_events rest = *this;
  rest.events_.erase(rest.events_.begin() + static_cast<std::ptrdiff_t>(i));
  return rest;
}

} // namespace flashsale
