#pragma once
// One judgement of validity for every value that arrives, whichever way it comes: the
// HTTP parser (messages/create_order.hpp) and the Kafka decoder (messages/events.hpp)
// judge what they read with these rules, and the cluster wire format
// (actors/wire_format.hpp) judges what a peer sends with the same functions. So what a
// node accepts from Kafka or HTTP, and then forwards to the order's owner, the owner
// accepts too (issue 22: a pre-1970 occurred_at passed the decoder, failed the peer
// check, and every forward of it was dropped). Pure: no I/O.

#include "messages/events.hpp"
#include "messages/order.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flashsale {

/// The instants an RFC 3339 text can name (years 0000 to 9999): every time that
/// arrives, or that we write into an event, lies between these.
constexpr std::int64_t earliest_time_ms = -62'167'219'200'000; // 0000-01-01T00:00:00.000Z
constexpr std::int64_t latest_time_ms = 253'402'300'799'999;   // 9999-12-31T23:59:59.999Z

bool valid_time_ms(std::int64_t unix_ms);
bool valid_time_s(std::int64_t unix_s);

/// The 8-4-4-4-12 form in lower case, as normalize_uuid makes it: ids cross between
/// nodes only normalised.
bool canonical_uuid(std::string_view text);

/// Valid UTF-8 (Unicode scalar values only) of at most `max_chars` characters.
bool valid_text(std::string_view text, std::size_t max_chars);

/// 3 upper-case ASCII letters (ISO 4217 form).
bool valid_currency(std::string_view code);
/// 1 to max_sku_length characters, no control characters (PostgreSQL stores no NUL,
/// and an SKU has no use for line breaks in logs).
bool valid_sku(std::string_view sku);
/// More than 0 and at most max_money.
bool valid_amount(minor_units amount);
/// 1 to max_quantity.
bool valid_quantity(std::int64_t quantity);
/// Σ quantity × price over `items` equals `total`, without overflow.
bool total_matches(const std::vector<order_item>& items, minor_units total);
/// A reason a user may cancel with (CONTRACT §3 Cancel).
bool valid_cancel_reason(std::string_view reason);

// Each check below returns an empty string when the value is acceptable, else what is
// wrong, naming the field.

/// An incoming saga event as decode_incoming makes it: ids canonical, event_type 1–64
/// characters, payment_intent_id and reason within their caps, all valid Unicode,
/// occurred_at 0 (unknown) or a time valid_time_ms accepts.
std::string check_incoming_event(const incoming_event& e);
/// An item as a create accepts it.
std::string check_order_item(const order_item& item);
/// An order as a create makes it and the transitions keep it: ids, status in range,
/// currency, 1–100 valid items whose sum is the total, valid times.
std::string check_order(const order& o);
/// A cancel command: a canonical order id, a reason a user may give, an empty or
/// canonical user id.
std::string check_cancel(std::string_view order_id, std::string_view reason,
                         std::string_view user_id);

} // namespace flashsale
