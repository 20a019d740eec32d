#pragma once
// Event envelopes and payload codecs of CONTRACT §5. Pure: no I/O.

#include "messages/order.hpp"
#include "messages/rfc3339.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace flashsale {

namespace topics {
constexpr const char* order_events = "order.v1.events";
constexpr const char* inventory_events = "inventory.v1.events";
constexpr const char* payment_events = "payment.v1.events";
constexpr const char* order_dlq = "order.v1.dlq";
} // namespace topics

/// An event the order service emits, ready for the outbox.
struct outgoing_event {
  std::string event_id;   // UUID
  std::string event_type; // "ORDER_CREATED", ...
  std::string order_id;   // the message key
  std::string envelope;   // the whole JSON envelope (the Kafka value)
  /// W3C traceparent of our span in the trace of the request or event that caused it
  /// (messages/trace_context.hpp), sent as the event's header; empty: none.
  std::string traceparent;
};

outgoing_event make_order_created(const order& o, std::int64_t now_ms);
outgoing_event make_order_cancelled(const std::string& order_id, const std::string& reason,
                                    std::int64_t now_ms);
outgoing_event make_order_expired(const std::string& order_id, const std::string& reason,
                                  std::int64_t now_ms);
outgoing_event make_order_paid(const std::string& order_id, std::int64_t now_ms);
outgoing_event make_order_payment_rejected(const std::string& order_id,
                                           const std::string& payment_intent_id,
                                           const std::string& reason, std::int64_t now_ms);

/// Caps on incoming fields, in characters: they are stored, logged and echoed into our
/// own events (payment_intent_id into ORDER_PAYMENT_REJECTED). Beyond them: poison.
constexpr std::size_t max_event_type_length = 64;
constexpr std::size_t max_payment_intent_id_length = 128;
constexpr std::size_t max_event_reason_length = 256;

/// An event consumed from inventory.v1.events or payment.v1.events, decoded.
struct incoming_event {
  std::string event_id;   // UUID, lower case
  std::string event_type; // as sent
  std::string order_id;   // UUID, lower case
  std::string payment_intent_id; // payment events only
  std::string reason;            // failure events, if present
  std::int64_t occurred_at_ms = 0;
  /// The message's traceparent header as received (the consumer sets it; a held event
  /// keeps it in its stored body); empty when absent. Checked only where it is used.
  std::string traceparent;
};

enum class decode_failure {
  not_json,         // the value cannot be parsed as a JSON object
  bad_envelope,     // missing/ill-typed event_id, event_type, payload
  invalid_order_id, // payload.order_id missing or not a UUID
};

struct decode_error {
  decode_failure failure;
  std::string detail; // for the dlq_reason header
};

std::variant<incoming_event, decode_error> decode_incoming(std::string_view value);

/// The envelope of CONTRACT §5 with the members of `e` the order service reads, which
/// decode_incoming turns back into `e` (an event held for later keeps this text), plus
/// a top-level "traceparent" when `e` has one, so a replayed event stays in its trace.
std::string encode_incoming(const incoming_event& e);

/// The trigger an incoming event type maps to; nullopt for INVENTORY_RELEASED (no
/// transition) and for unknown types (the caller tells the two apart with
/// is_known_incoming_type).
std::optional<order_trigger> trigger_for(std::string_view event_type);
bool is_known_incoming_type(std::string_view event_type);

} // namespace flashsale
