#pragma once
// The saga events held for an order (early_events, CONTRACT §5: an event that came
// before its order could take it) as a replay goes through them. No CAF, no I/O.

#include "messages/commands.hpp"
#include "messages/events.hpp"
#include "messages/saga_step.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace flashsale {

/// The events held for an order (early_events), in the order they came, as a replay
/// goes through them.
class held_events {
public:
  held_events() = default;

  /// Decodes the rows; one whose text no longer decodes (it was written by this
  /// service, so only a bug makes that) keeps its id and no type, is released without
  /// effect, and its id is added to `undecodable`.
  static held_events decode(const std::string& order_id, const std::vector<held_event>& rows,
                            std::vector<std::string>& undecodable);

  /// The next held event that can act in `current` (apply, reject, or be dropped):
  /// the first one that would not be held again. Nothing when all still wait.
  struct pick {
    std::size_t index = 0;
    saga_step step = saga_step::ignore;
  };
  std::optional<pick> next(order_status current) const;

  const incoming_event& at(std::size_t i) const { return events_[i]; }
  held_events without(std::size_t i) const;
  bool empty() const { return events_.empty(); }
  std::size_t size() const { return events_.size(); }

private:
  std::vector<incoming_event> events_;
};

} // namespace flashsale
