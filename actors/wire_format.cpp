#include "actors/wire_format.hpp"

#include "actors/protocol.hpp"

#include <caf/actor_system_config.hpp>

namespace flashsale {

void add_cluster_message_types(caf::actor_system_config& cfg) {
  // Replies and the one command payload that is not a string. Nested types (order,
  // order_item, api_error, enums) need their inspect overloads only.
  cfg.add_message_type<order_reply>("fs_order_reply");
  cfg.add_message_type<event_reply>("fs_event_reply");
  cfg.add_message_type<incoming_event>("fs_incoming_event");
}

} // namespace flashsale
