#include "messages/order_status.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <sstream>

using namespace flashsale;

namespace {

constexpr std::array<order_status, 6> all_statuses{
  order_status::created,   order_status::reserved,  order_status::payment_pending,
  order_status::paid,      order_status::cancelled, order_status::expired,
};

constexpr std::array<order_trigger, 7> all_triggers{
  order_trigger::inventory_reserved, order_trigger::reservation_failed,
  order_trigger::payment_intent_created, order_trigger::payment_succeeded,
  order_trigger::payment_failed, order_trigger::user_cancel, order_trigger::deadline,
};

const char* trigger_name(order_trigger t) {
  constexpr std::array<const char*, 7> names{
    "inventory_reserved", "reservation_failed", "payment_intent_created",
    "payment_succeeded", "payment_failed", "user_cancel", "deadline"};
  return names[static_cast<std::size_t>(t)];
}

/// One cell of CONTRACT §4: allowed == false means nullopt is expected.
struct expected {
  bool allowed = false;
  order_status to = order_status::created;
  const char* reason = "";
  order_event emits = order_event::none;
};

constexpr expected no{};

expected yes(order_status to, const char* reason, order_event emits) {
  return expected{true, to, reason, emits};
}

using s = order_status;
using e = order_event;

// Rows: statuses in all_statuses order; columns: triggers in all_triggers order.
std::array<std::array<expected, 7>, 6> contract_table() {
  auto cancelled = [](const char* r) { return yes(s::cancelled, r, e::order_cancelled); };
  auto expired = [](const char* r) { return yes(s::expired, r, e::order_expired); };
  return {{
    // CREATED
    {yes(s::reserved, "", e::none), cancelled("STOCK_EXHAUSTED"), no, no, no,
     cancelled("USER_CANCEL"), cancelled("RESERVATION_TIMEOUT")},
    // RESERVED
    {no, no, yes(s::payment_pending, "", e::none), no, no, cancelled("USER_CANCEL"),
     expired("RESERVATION_TTL")},
    // PAYMENT_PENDING
    {no, no, no, yes(s::paid, "", e::order_paid), cancelled("PAYMENT_FAILED"),
     cancelled("USER_CANCEL"), expired("PAYMENT_TTL")},
    // PAID, CANCELLED, EXPIRED: terminal
    {no, no, no, no, no, no, no},
    {no, no, no, no, no, no, no},
    {no, no, no, no, no, no, no},
  }};
}

} // namespace

BOOST_AUTO_TEST_SUITE(order_status_suite)

BOOST_AUTO_TEST_CASE(status_names_match_the_contract) {
  BOOST_TEST(to_string(order_status::created) == "CREATED");
  BOOST_TEST(to_string(order_status::reserved) == "RESERVED");
  BOOST_TEST(to_string(order_status::payment_pending) == "PAYMENT_PENDING");
  BOOST_TEST(to_string(order_status::paid) == "PAID");
  BOOST_TEST(to_string(order_status::cancelled) == "CANCELLED");
  BOOST_TEST(to_string(order_status::expired) == "EXPIRED");
}

BOOST_AUTO_TEST_CASE(status_names_round_trip) {
  for (auto st : all_statuses) {
    auto parsed = parse_order_status(to_string(st));
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == st));
  }
}

BOOST_AUTO_TEST_CASE(unknown_status_names_are_refused) {
  for (std::string_view text : {"", "created", "Paid", "PAID ", " PAID", "PENDING", "UNKNOWN"})
    BOOST_TEST(!parse_order_status(text).has_value(), "'" << text << "'");
}

BOOST_AUTO_TEST_CASE(only_paid_cancelled_expired_are_terminal) {
  BOOST_TEST(!is_terminal(order_status::created));
  BOOST_TEST(!is_terminal(order_status::reserved));
  BOOST_TEST(!is_terminal(order_status::payment_pending));
  BOOST_TEST(is_terminal(order_status::paid));
  BOOST_TEST(is_terminal(order_status::cancelled));
  BOOST_TEST(is_terminal(order_status::expired));
}

BOOST_AUTO_TEST_CASE(event_names_match_the_contract) {
  BOOST_TEST(to_string(order_event::order_created) == "ORDER_CREATED");
  BOOST_TEST(to_string(order_event::order_cancelled) == "ORDER_CANCELLED");
  BOOST_TEST(to_string(order_event::order_expired) == "ORDER_EXPIRED");
  BOOST_TEST(to_string(order_event::order_paid) == "ORDER_PAID");
  BOOST_TEST(to_string(order_event::order_payment_rejected) == "ORDER_PAYMENT_REJECTED");
  BOOST_TEST(to_string(order_event::none).empty());
}

BOOST_AUTO_TEST_CASE(every_status_and_trigger_pair_follows_the_contract_table) {
  auto table = contract_table();
  int checked = 0;
  for (std::size_t row = 0; row < all_statuses.size(); ++row) {
    for (std::size_t col = 0; col < all_triggers.size(); ++col) {
      auto from = all_statuses[row];
      auto trigger = all_triggers[col];
      const auto& want = table[row][col];
      BOOST_TEST_CONTEXT(to_string(from) << " + " << trigger_name(trigger)) {
        auto got = next_transition(from, trigger);
        BOOST_TEST_REQUIRE(got.has_value() == want.allowed);
        if (got) {
          BOOST_TEST(to_string(got->to) == to_string(want.to));
          BOOST_TEST(got->reason == want.reason);
          BOOST_TEST(to_string(got->emits) == to_string(want.emits));
        }
      }
      ++checked;
    }
  }
  BOOST_TEST(checked == 42);
}

BOOST_AUTO_TEST_CASE(user_cancel_carries_the_given_reason) {
  for (auto from : {s::created, s::reserved, s::payment_pending}) {
    auto t = next_transition(from, order_trigger::user_cancel, "STOCK_EXHAUSTED");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->reason == "STOCK_EXHAUSTED");
    BOOST_TEST((t->to == s::cancelled));
    BOOST_TEST((t->emits == e::order_cancelled));
  }
}

BOOST_AUTO_TEST_CASE(user_cancel_with_empty_reason_defaults_to_user_cancel) {
  auto t = next_transition(s::created, order_trigger::user_cancel, "");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(t->reason == "USER_CANCEL");
}

BOOST_AUTO_TEST_CASE(cancel_reason_is_ignored_for_other_triggers) {
  auto t = next_transition(s::created, order_trigger::reservation_failed, "USER_CANCEL");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(t->reason == "STOCK_EXHAUSTED");
  auto d = next_transition(s::reserved, order_trigger::deadline, "STOCK_EXHAUSTED");
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->reason == "RESERVATION_TTL");
}

BOOST_AUTO_TEST_CASE(terminal_states_refuse_even_user_cancel) {
  for (auto from : {s::paid, s::cancelled, s::expired})
    for (auto reason : {"USER_CANCEL", "STOCK_EXHAUSTED"})
      BOOST_TEST(!next_transition(from, order_trigger::user_cancel, reason).has_value());
}

BOOST_AUTO_TEST_CASE(reason_is_set_exactly_for_cancelled_and_expired) {
  for (auto from : all_statuses)
    for (auto trigger : all_triggers)
      if (auto t = next_transition(from, trigger)) {
        bool needs_reason = t->to == s::cancelled || t->to == s::expired;
        BOOST_TEST(t->reason.empty() == !needs_reason,
                   to_string(from) << " + " << trigger_name(trigger));
      }
}

BOOST_AUTO_TEST_SUITE_END()
