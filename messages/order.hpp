#pragma once
// The order as the service holds it, and its JSON view (CONTRACT §3 "Order").

#include "messages/money.hpp"
#include "messages/order_status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flashsale {

struct order_item {
  std::string sku_id;
  std::int32_t quantity = 0;
  minor_units price = 0;
};

struct order {
  std::string id;      // UUID, lower case
  std::string user_id; // UUID, lower case
  order_status status = order_status::created;
  std::string currency;
  minor_units total_amount = 0;
  std::vector<order_item> items;
  std::int64_t created_at = 0; // Unix seconds
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> expired_at; // deadline of the current state
  std::string reason;                     // CANCELLED / EXPIRED only
};

/// The Order JSON object of CONTRACT §3 (no "data" wrapper).
std::string order_to_json(const order& o);
/// {"data": Order}
std::string order_response_json(const order& o);
/// {"data": [Order, ...]}
std::string order_list_response_json(const std::vector<order>& orders);

} // namespace flashsale
