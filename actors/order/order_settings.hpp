#pragma once
// What the order actors need to know; filled from the configuration in app/.

#include <chrono>

namespace flashsale {

struct order_settings {
  std::chrono::seconds ttl_created{300};         // ORDER_TTL_CREATED_S
  std::chrono::seconds ttl_reserved{120};        // ORDER_TTL_RESERVED_S
  std::chrono::seconds ttl_payment_pending{600}; // ORDER_TTL_PAYMENT_PENDING_S
  std::chrono::seconds passivate_after{30};      // idle order actors leave memory
  std::chrono::milliseconds db_timeout{5000};    // an answer from persistence, at most
  std::chrono::milliseconds dlq_timeout{5000};   // a held event's DLQ copy acknowledged
};

} // namespace flashsale
