#include "actors/cluster/wire_format.hpp"

#include "actors/protocol.hpp"
#include "messages/trace_context.hpp"
#include "messages/validation.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/sec.hpp>

namespace flashsale {

namespace {

template <class Enum>
bool in_range(Enum value, Enum last) {
  auto v = static_cast<long long>(value);
  return v >= 0 && v <= static_cast<long long>(last);
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
  return check_order_item(x);
}

std::string check_peer_value(const order& x) {
  return check_order(x);
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
  if (auto what = check_incoming_event(x); !what.empty())
    return what;
  if (!is_known_incoming_type(x.event_type))
    return "unknown event_type";
  if (!x.traceparent.empty() && !parse_traceparent(x.traceparent))
    return "traceparent neither empty nor valid";
  return {};
}

std::string check_peer_order_id(const std::string& id) {
  return canonical_uuid(id) ? std::string{} : "order id not a UUID";
}

std::string check_peer_cancel(const std::string& id, const std::string& reason,
                              const std::string& user_id, const std::string& traceparent) {
  if (auto what = check_cancel(id, reason, user_id); !what.empty())
    return what;
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
