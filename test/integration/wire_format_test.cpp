// The messages that cross nodes (actors/wire_format.hpp): each survives CAF's binary
// serialisation, the optional deadline both set and absent, and a whole message
// round-trips through the type registry that add_cluster_message_types() fills.
// What a peer sends is checked while it loads: an out-of-range enum, a malformed id or
// an oversized value fails the load (and CAF drops the message).
// No database: it lives here because the unit tests do not link CAF.

#include "actors/protocol.hpp"
#include "actors/cluster/wire_format.hpp"
#include "http/requests.hpp"
#include "messages/create_order.hpp"
#include "messages/validation.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <limits>
#include <vector>

using namespace flashsale;

namespace {

order sample_order(std::optional<std::int64_t> deadline) {
  order o;
  o.id = "0190f0a0-0000-7000-8000-000000000001";
  o.user_id = "0190f0a0-0000-7000-8000-000000000002";
  o.status = order_status::payment_pending;
  o.currency = "EUR";
  o.total_amount = 2600;
  o.items = {{"sku-1", 2, 1250}, {"sku-gift", 1, 100}};
  o.created_at = 1795476804;
  o.updated_at = 1795476805;
  o.expired_at = deadline;
  o.reason = "";
  return o;
}

const std::string order_uuid = "0190f0a0-0000-7000-8000-000000000001";
const std::string event_uuid = "0190f0a0-0000-7000-8000-0000000000e1";

/// Whether `x`, serialised as a peer would send it, fails to load.
template <class T>
bool refused_on_load(caf::actor_system& sys, T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (sink(x))
    return false; // could not even be written
  T y;
  caf::binary_deserializer source{sys, buf};
  return static_cast<bool>(source(y));
}

template <class T>
T round_trip(caf::actor_system& sys, T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  BOOST_REQUIRE(!sink(x));
  T y;
  caf::binary_deserializer source{sys, buf};
  BOOST_REQUIRE(!source(y));
  return y;
}

struct cluster_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  cluster_system() {
    cfg.set("logger.console", caf::atom("none"));
    add_cluster_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

void check_same(const order& a, const order& b) {
  BOOST_TEST(a.id == b.id);
  BOOST_TEST(a.user_id == b.user_id);
  BOOST_TEST((a.status == b.status));
  BOOST_TEST(a.currency == b.currency);
  BOOST_TEST(a.total_amount == b.total_amount);
  BOOST_REQUIRE(a.items.size() == b.items.size());
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    BOOST_TEST(a.items[i].sku_id == b.items[i].sku_id);
    BOOST_TEST(a.items[i].quantity == b.items[i].quantity);
    BOOST_TEST(a.items[i].price == b.items[i].price);
  }
  BOOST_TEST(a.created_at == b.created_at);
  BOOST_TEST(a.updated_at == b.updated_at);
  BOOST_TEST((a.expired_at == b.expired_at));
  BOOST_TEST(a.reason == b.reason);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(wire_format_suite, cluster_system)

BOOST_AUTO_TEST_CASE(an_order_reply_keeps_every_field_and_the_deadline) {
  for (auto deadline : {std::optional<std::int64_t>{1795477104}, std::optional<std::int64_t>{}}) {
    auto in = reply_ok(sample_order(deadline));
    auto out = round_trip(*sys, in);
    BOOST_TEST(out.ok);
    check_same(in.value, out.value);
  }
  auto out = round_trip(*sys, reply_error(error_code::forbidden, "not yours"));
  BOOST_TEST(!out.ok);
  BOOST_TEST((out.error.code == error_code::forbidden));
  BOOST_TEST(out.error.message == "not yours");
}

BOOST_AUTO_TEST_CASE(an_optional_deadline_is_cleared_when_absent_on_the_wire) {
  // Loading into an order that had a deadline: absence on the wire must clear it.
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  auto none = sample_order(std::nullopt);
  BOOST_REQUIRE(!sink(none));
  auto target = sample_order(42);
  caf::binary_deserializer source{*sys, buf};
  BOOST_REQUIRE(!source(target));
  BOOST_TEST(!target.expired_at.has_value());
}

BOOST_AUTO_TEST_CASE(events_and_event_replies_round_trip) {
  incoming_event ev{event_uuid, "PAYMENT_SUCCEEDED", order_uuid, "pi-1", "why", 1795476804123};
  auto out = round_trip(*sys, ev);
  BOOST_TEST(out.event_id == ev.event_id);
  BOOST_TEST(out.event_type == ev.event_type);
  BOOST_TEST(out.order_id == ev.order_id);
  BOOST_TEST(out.payment_intent_id == ev.payment_intent_id);
  BOOST_TEST(out.reason == ev.reason);
  BOOST_TEST(out.occurred_at_ms == ev.occurred_at_ms);
  auto r = round_trip(*sys, event_reply{event_status::payment_rejected, order_status::expired});
  BOOST_TEST((r.status == event_status::payment_rejected));
  BOOST_TEST((r.current == order_status::expired));
}

BOOST_AUTO_TEST_CASE(a_whole_message_crosses_through_the_type_registry) {
  auto msg = caf::make_message(event_atom::value,
                               incoming_event{event_uuid, "INVENTORY_RESERVED", order_uuid, "", "", 7});
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  BOOST_REQUIRE(!sink(msg));
  caf::message back;
  caf::binary_deserializer source{*sys, buf};
  BOOST_REQUIRE(!source(back));
  BOOST_REQUIRE((back.match_elements<event_atom, incoming_event>()));
  BOOST_TEST(back.get_as<incoming_event>(1).order_id == order_uuid);
  auto reply = caf::make_message(reply_ok(sample_order(1795477104)));
  buf.clear();
  caf::binary_serializer sink2{*sys, buf};
  BOOST_REQUIRE(!sink2(reply));
  caf::binary_deserializer source2{*sys, buf};
  BOOST_REQUIRE(!source2(back));
  BOOST_REQUIRE(back.match_elements<order_reply>());
  BOOST_TEST(
    (back.get_as<order_reply>(0).value.expired_at == std::optional<std::int64_t>{1795477104}));
}

BOOST_AUTO_TEST_CASE(an_out_of_range_status_from_a_peer_is_refused) {
  auto bad = reply_ok(sample_order(std::nullopt));
  bad.value.status = static_cast<order_status>(6);
  BOOST_TEST(refused_on_load(*sys, bad));
  bad.value.status = static_cast<order_status>(-1);
  BOOST_TEST(refused_on_load(*sys, bad));
  BOOST_TEST(refused_on_load(
    *sys, event_reply{static_cast<event_status>(static_cast<int>(event_status::held) + 1),
                      order_status::paid}));
  BOOST_TEST(refused_on_load(*sys, event_reply{event_status::applied, static_cast<order_status>(99)}));
  // One past the last (the codes grow: request_timeout came with the HTTP bounds).
  BOOST_TEST(refused_on_load(
    *sys, reply_error(static_cast<error_code>(static_cast<int>(error_code::unavailable) + 1), "x")));
  // The last value of each enum is in range.
  BOOST_TEST(!refused_on_load(*sys, event_reply{event_status::held, order_status::expired}));
  BOOST_TEST(!refused_on_load(*sys, reply_error(error_code::unavailable, "later")));
}

BOOST_AUTO_TEST_CASE(a_malformed_order_from_a_peer_is_refused) {
  auto with = [](auto change) {
    auto r = reply_ok(sample_order(1795477104));
    change(r.value);
    return r;
  };
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.id = "not-a-uuid"; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.id = "0190F0A0-0000-7000-8000-000000000001"; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.user_id = ""; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.currency = "eur"; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.total_amount = 0; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.items.clear(); })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.items.assign(101, {"s", 1, 1}); })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.items[0].quantity = 10001; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.items[0].sku_id = std::string(65, 's'); })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.items[0].price = -1; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.reason = std::string(64 * 1024 + 1, 'r'); })));
  // Before 1970 is a time like any other (issue 22); past year 9999 none of ours.
  BOOST_TEST(!refused_on_load(*sys, with([](order& o) { o.expired_at = -5; })));
  BOOST_TEST(refused_on_load(*sys, with([](order& o) { o.expired_at = latest_time_ms; })));
  BOOST_TEST(!refused_on_load(*sys, with([](order&) {})));
  // An unsuccessful reply carries no order; its error must still be valid.
  BOOST_TEST(!refused_on_load(*sys, reply_error(error_code::order_not_found, "order not found")));
  BOOST_TEST(refused_on_load(*sys, reply_error(error_code::internal_error, std::string(64 * 1024 + 1, 'm'))));
}

BOOST_AUTO_TEST_CASE(a_malformed_event_from_a_peer_is_refused) {
  incoming_event ok{event_uuid, "PAYMENT_SUCCEEDED", order_uuid, "pi-1", "", 1};
  BOOST_TEST(!refused_on_load(*sys, ok));
  auto with = [&](auto change) {
    auto ev = ok;
    change(ev);
    return ev;
  };
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) { e.event_id = "e-1"; })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) { e.order_id = ""; })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) { e.event_type = "PAYMENT_FORGED"; })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) { e.reason = std::string(70000, 'x'); })));
  BOOST_TEST(!refused_on_load(*sys, with([](incoming_event& e) { e.occurred_at_ms = -1; })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) { e.occurred_at_ms = latest_time_ms + 1; })));
}

BOOST_AUTO_TEST_CASE(a_whole_message_with_a_bad_value_does_not_come_through) {
  auto bad = reply_ok(sample_order(std::nullopt));
  bad.value.status = static_cast<order_status>(42);
  auto msg = caf::make_message(bad);
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  BOOST_REQUIRE(!sink(msg));
  caf::message back;
  caf::binary_deserializer source{*sys, buf};
  auto err = source(back);
  // Either way the bad reply never comes through as an order_reply.
  BOOST_TEST((err || !back.match_elements<order_reply>()), "loaded: " << caf::to_string(back));
}

/// A saga envelope as a producer sends it to inventory.v1.events or payment.v1.events.
std::string envelope(const std::string& occurred_at, const std::string& payload_rest = "") {
  return R"({"event_id":")" + event_uuid + R"(","event_type":"PAYMENT_SUCCEEDED","occurred_at":")"
         + occurred_at + R"(","schema_version":1,"payload":{"order_id":")" + order_uuid + '"'
         + payload_rest + "}}";
}

// Issue 22: what the consumer decodes (and then forwards to the order's owner) must load
// on the owner. A pre-1970 occurred_at decoded to a negative time that the peer refused:
// every forward was dropped, and the sender applied the event itself.
BOOST_AUTO_TEST_CASE(every_event_the_consumer_accepts_a_peer_accepts) {
  std::string e_acute = "\xc3\xa9"; // one character, two bytes
  std::string max_reason;
  for (std::size_t i = 0; i < max_event_reason_length; ++i)
    max_reason += e_acute;
  for (const auto& value :
       {envelope("1969-12-31T23:59:59.999Z"), envelope("1900-03-01T00:00:00Z"),
        envelope("0000-01-01T00:00:00.000Z"), envelope("0000-01-01T00:00:00+01:00"),
        envelope("9999-12-31T23:59:59.999Z"), envelope("9999-12-31T23:59:59.999-01:00"),
        envelope("1970-01-01T00:00:00Z"), envelope("yesterday"),
        envelope("2026-01-01T00:00:00Z", R"(,"reason":")" + max_reason + '"'),
        envelope("2026-01-01T00:00:00Z", R"(,"payment_intent_id":"")")}) {
    BOOST_TEST_CONTEXT(value.substr(0, 160)) {
      auto decoded = decode_incoming(value);
      BOOST_REQUIRE(std::holds_alternative<incoming_event>(decoded));
      const auto& ev = std::get<incoming_event>(decoded);
      BOOST_TEST(!refused_on_load(*sys, ev));
      BOOST_TEST(check_peer_value(ev).empty(), check_peer_value(ev));
      // A held event is kept as encode_incoming text and decoded again at replay.
      auto again = decode_incoming(encode_incoming(ev));
      BOOST_REQUIRE(std::holds_alternative<incoming_event>(again));
      BOOST_TEST(std::get<incoming_event>(again).occurred_at_ms == ev.occurred_at_ms);
    }
  }
}

// ...and what the consumer refuses (to the DLQ) a peer refuses too: a value past a
// decoder's cap, text that is no Unicode, a time no RFC 3339 text can name.
BOOST_AUTO_TEST_CASE(an_event_the_consumer_would_refuse_a_peer_refuses) {
  incoming_event ok{event_uuid, "PAYMENT_SUCCEEDED", order_uuid, "pi-1", "", 1};
  auto with = [&](auto change) {
    auto ev = ok;
    change(ev);
    return ev;
  };
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) {
    e.reason = std::string(max_event_reason_length + 1, 'r');
  })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) {
    e.payment_intent_id = std::string(max_payment_intent_id_length + 1, 'p');
  })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) { e.reason = "\xed\xb0\x80"; })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) {
    e.occurred_at_ms = std::numeric_limits<std::int64_t>::min();
  })));
  BOOST_TEST(refused_on_load(*sys, with([](incoming_event& e) {
    e.occurred_at_ms = std::numeric_limits<std::int64_t>::max();
  })));
}

// An order a create accepts is an order a peer's reply may carry: an SKU of 64
// characters is 64 characters, whatever its bytes.
BOOST_AUTO_TEST_CASE(every_order_a_create_accepts_a_peer_accepts) {
  std::string sku;
  for (std::size_t i = 0; i < max_sku_length; ++i)
    sku += "\xc3\xa9";
  auto parsed = parse_create_order(R"({"user_id":")" + order_uuid + R"(","currency":"EUR",)"
                                   R"("total_amount":25.00,"items":[{"sku_id":")"
                                   + sku + R"(","quantity":2,"price":12.50}]})");
  BOOST_REQUIRE(std::holds_alternative<create_order_request>(parsed));
  auto cmd = http::make_create_command(std::get<create_order_request>(parsed), "k",
                                       1795476804123, std::chrono::seconds{300});
  BOOST_TEST(!refused_on_load(*sys, reply_ok(cmd.fresh)));
  // The converse: an order whose total a create would refuse does not come from a peer.
  auto wrong_total = cmd.fresh;
  wrong_total.total_amount += 1;
  BOOST_TEST(refused_on_load(*sys, reply_ok(wrong_total)));
}

BOOST_AUTO_TEST_CASE(forwarded_commands_are_checked_like_http_input) {
  BOOST_TEST(check_peer_order_id(order_uuid).empty());
  BOOST_TEST(!check_peer_order_id("").empty());
  BOOST_TEST(!check_peer_order_id("../../etc").empty());
  BOOST_TEST(check_peer_cancel(order_uuid, "USER_CANCEL", "", "").empty());
  BOOST_TEST(check_peer_cancel(order_uuid, "STOCK_EXHAUSTED", order_uuid, "").empty());
  BOOST_TEST(!check_peer_cancel(order_uuid, "PAYMENT_FAILED", "", "").empty());
  BOOST_TEST(!check_peer_cancel(order_uuid, "USER_CANCEL", "someone", "").empty());
  BOOST_TEST(!check_peer_cancel("x", "USER_CANCEL", "", "").empty());
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  BOOST_TEST(check_peer_cancel(order_uuid, "USER_CANCEL", "", trace).empty());
  BOOST_TEST(!check_peer_cancel(order_uuid, "USER_CANCEL", "", "00-nope").empty());
}

BOOST_AUTO_TEST_SUITE_END()
