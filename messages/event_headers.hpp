#pragma once
// The Kafka headers of every event the order service produces (CONTRACT §5): event_type,
// the CloudEvents 1.0 Kafka protocol binding in binary mode (the attributes as ce_*
// headers, the value stays our envelope) and the W3C traceparent. Pure: no I/O.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace flashsale {

namespace cloud_events {
constexpr const char* spec_version = "1.0";
constexpr const char* source = "/flashsale/order-service";
constexpr const char* content_type = "application/json";
} // namespace cloud_events

/// One header as views into the row and constants.
struct header_view {
  std::string_view name;
  std::string_view value;
};

/// At most this many headers per event.
constexpr std::size_t max_event_headers = 9;

/// The headers of an event as views, without an allocation (the relay makes them for
/// every event it sends): the first `count` of `items`.
struct event_header_views {
  std::array<header_view, max_event_headers> items;
  std::size_t count = 0;
};

/// What the headers are made of: the outbox row's columns.
struct event_header_input {
  std::string_view event_id;
  std::string_view event_type;
  std::string_view order_id;
  std::string_view envelope;    // the value: occurred_at is read from it
  std::string_view traceparent; // empty: none stored (a row older than migration 000011)
};

/// event_type, ce_specversion, ce_id, ce_type, ce_source, ce_time, ce_subject,
/// content-type, and traceparent when the row has one. ce_time is the envelope's
/// occurred_at, left out only if the envelope has none (never for our own envelopes).
/// Views into the strings `in` views (which must outlive them) and constants.
event_header_views event_header_views_of(const event_header_input& in);

/// The envelope's "occurred_at" text as our encoder writes it (a scan, not a parse: the
/// relay does this for every event); empty when absent.
std::string_view occurred_at_of(std::string_view envelope);

} // namespace flashsale
