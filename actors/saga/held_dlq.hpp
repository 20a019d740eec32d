#pragma once
// The dead-letter sink for held events (CONTRACT §5): an order actor whose held early
// event the database rejects at replay asks this actor to copy it to order.v1.dlq and
// releases the row only once the copy is acknowledged. A detached actor with a DLQ
// producer of its own, made on first use; service.cpp hands it to the order registry.
//
//   (dlq_atom, order_id, event_id, event_type, body) -> bool: true once acknowledged,
//   false when the copy cannot be made now (the row stays for a later replay).

#include <caf/fwd.hpp>

#include <chrono>
#include <string>

namespace flashsale {

class metrics_registry;

struct held_dlq_settings {
  std::string kafka_brokers;                      // KAFKA_BROKERS
  std::chrono::milliseconds poll_every{50};       // delivery reports while copies are out
  std::chrono::milliseconds shutdown_grace{2000}; // copies still out at exit
};

caf::actor spawn_held_dlq(caf::actor_system& sys, held_dlq_settings settings,
                          metrics_registry& metrics);

} // namespace flashsale
