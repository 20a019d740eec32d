#include "actors/outbox/relay_batch.hpp"

#include <algorithm>
#include <unordered_map>

namespace flashsale {

namespace {

/// The fate of an order's first row that was not delivered.
row_fate first_failure(const row_attempt& a, bool alone) {
  if (a.state != row_attempt::failed)
    return row_fate::release; // not produced, or no report: nothing is known
  switch (a.failure) {
    case row_attempt::refused_alone:
      return row_fate::dead;
    case row_attempt::refused_in_batch:
      return alone ? row_fate::dead : row_fate::retry_alone;
    case row_attempt::passing:
      break;
  }
  return row_fate::retry;
}

} // namespace

std::vector<row_fate> sort_batch(const std::vector<std::string_view>& orders,
                                 const std::vector<row_attempt>& attempts, bool alone) {
  std::vector<row_fate> fates(orders.size(), row_fate::release);
  // Per order, the fate of its first row that was not delivered, once there is one.
  std::unordered_map<std::string_view, row_fate> stopped;
  for (std::size_t i = 0; i < orders.size() && i < attempts.size(); ++i) {
    const auto& a = attempts[i];
    auto it = stopped.find(orders[i]);
    if (it == stopped.end()) {
      fates[i] = a.state == row_attempt::delivered ? row_fate::sent : first_failure(a, alone);
      if (fates[i] != row_fate::sent)
        stopped.emplace(orders[i], fates[i]);
      continue;
    }
    // Behind a row sent again alone, the order's later produced rows go alone too, in
    // seq order (they were refused or dropped with it); anything else waits.
    if (it->second == row_fate::retry_alone && a.state != row_attempt::not_produced)
      fates[i] = row_fate::retry_alone;
  }
  return fates;
}

std::size_t count_fate(const std::vector<row_fate>& fates, row_fate f) {
  return static_cast<std::size_t>(std::count(fates.begin(), fates.end(), f));
}

} // namespace flashsale
