#include "actors/cluster/wire_format.hpp"

#include "actors/protocol.hpp"
#include "messages/trace_context.hpp"
#include "messages/uuid.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/sec.hpp>

namespace flashsale {

namespace {

bool canonical_uuid(const std::string& text) {
  auto n = normalize_uuid(text);
  return n && *n == text;
}

template <class Enum>
bool in_range(Enum value, Enum last) {
  auto v = static_cast<long long>(value);
  return v >= 0 && v <= static_cast<long long>(last);
}

bool currency_code(const std::string& c) {
  if (c.size() != 3)
    return false;
  for (char ch : c)
    if (ch < 'A' || ch > 'Z')
      return false;
  return true;
}

} // namespace

caf::error peer_value_error(const std::string& what) {
  return caf::make_error(caf::sec::invalid_argument, "invalid value from a cluster peer: " + what);
}

std::string check_peer_value(const api_error& x) {
  if (!in_range(x.code, error_code::unavailable))
    return "error code " + std::to_string(static_cast<long long>(x.code)) + " out of range";
  if (x.message.size() > peer_max_text)
    return "error message longer than 64 KiB";
  return {};
}

std::string check_peer_value(const order_item& x) {
  if (x.sku_id.empty() || x.sku_id.size() > peer_max_sku)
    return "sku_id not 1-64 characters";
  if (x.quantity < 1 || x.quantity > peer_max_quantity)
    return "quantity " + std::to_string(x.quantity) + " not 1-10000";
  if (x.price <= 0)
    return "price not positive";
  return {};
}

std::string check_peer_value(const order& x) {
  if (!canonical_uuid(x.id))
    return "order id not a UUID";
  if (!canonical_uuid(x.user_id))
    return "user_id not a UUID";
  if (!in_range(x.status, order_status::expired))
    return "order status " + std::to_string(static_cast<long long>(x.status)) + " out of range";
  if (!currency_code(x.currency))
    return "currency not 3 upper-case letters";
  if (x.total_amount <= 0)
    return "total_amount not positive";
  if (x.items.empty() || x.items.size() > peer_max_items)
    return "not 1-100 items";
  for (const auto& item : x.items)
    if (auto what = check_peer_value(item); !what.empty())
      return what;
  if (x.created_at < 0 || x.updated_at < 0 || (x.expired_at && *x.expired_at < 0))
    return "negative time";
  if (x.reason.size() > peer_max_text)
    return "reason longer than 64 KiB";
  return {};
}

std::string check_peer_value(const order_reply& x) {
  return x.ok ? check_peer_value(x.value) : check_peer_value(x.error);
}

std::string check_peer_value(const event_reply& x) {
  if (!in_range(x.status, event_status::held))
    return "event status " + std::to_string(static_cast<long long>(x.status)) + " out of range";
  if (!in_range(x.current, order_status::expired))
    return "order status " + std::to_string(static_cast<long long>(x.current)) + " out of range";
  return {};
}

std::string check_peer_value(const incoming_event& x) {
  if (!canonical_uuid(x.event_id))
    return "event_id not a UUID";
  if (!canonical_uuid(x.order_id))
    return "order_id not a UUID";
  if (x.event_type.empty() || x.event_type.size() > peer_max_event_type
      || !is_known_incoming_type(x.event_type))
    return "unknown event_type";
  if (x.payment_intent_id.size() > peer_max_text || x.reason.size() > peer_max_text)
    return "payment_intent_id or reason longer than 64 KiB";
  if (x.occurred_at_ms < 0)
    return "negative occurred_at";
  if (!x.traceparent.empty() && !parse_traceparent(x.traceparent))
    return "traceparent neither empty nor valid";
  return {};
}

std::string check_peer_order_id(const std::string& id) {
  return canonical_uuid(id) ? std::string{} : "order id not a UUID";
}

std::string check_peer_cancel(const std::string& id, const std::string& reason,
                              const std::string& user_id, const std::string& traceparent) {
  if (auto what = check_peer_order_id(id); !what.empty())
    return what;
  if (reason != "USER_CANCEL" && reason != "STOCK_EXHAUSTED")
    return "cancel reason not USER_CANCEL or STOCK_EXHAUSTED";
  if (!user_id.empty() && !canonical_uuid(user_id))
    return "user_id neither empty nor a UUID";
  if (!traceparent.empty() && !parse_traceparent(traceparent))
    return "traceparent neither empty nor valid";
  return {};
}

void add_cluster_message_types(caf::actor_system_config& cfg) {
  // Replies and the one command payload that is not a string. Nested types (order,
  // order_item, api_error, enums) need their inspect overloads only.
  cfg.add_message_type<order_reply>("fs_order_reply");
  cfg.add_message_type<event_reply>("fs_event_reply");
  cfg.add_message_type<incoming_event>("fs_incoming_event");
}

} // namespace flashsale
