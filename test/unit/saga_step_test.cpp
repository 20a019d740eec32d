#include "messages/saga_step.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace flashsale;
using s = order_status;

namespace {

std::string step(const char* type, order_status status) {
  switch (saga_step_for(type, status)) {
    case saga_step::apply:
      return "apply";
    case saga_step::reject:
      return "reject";
    case saga_step::hold:
      return "hold";
    case saga_step::ignore:
      return "ignore";
  }
  return "?";
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_step_suite)

// Every (event, status) pair: the transition table, plus what waits and what is refunded.
BOOST_AUTO_TEST_CASE(every_event_in_every_status) {
  const order_status all[] = {s::created, s::reserved, s::payment_pending,
                              s::paid,    s::cancelled, s::expired};
  struct row {
    const char* type;
    const char* expected[6]; // in the order of `all`
  };
  const row table[] = {
    {"INVENTORY_RESERVED", {"apply", "ignore", "ignore", "ignore", "ignore", "ignore"}},
    {"INVENTORY_RESERVATION_FAILED", {"apply", "ignore", "ignore", "ignore", "ignore", "ignore"}},
    {"INVENTORY_RELEASED", {"ignore", "ignore", "ignore", "ignore", "ignore", "ignore"}},
    {"PAYMENT_INTENT_CREATED", {"hold", "apply", "ignore", "ignore", "ignore", "ignore"}},
    {"PAYMENT_SUCCEEDED", {"hold", "hold", "apply", "ignore", "reject", "reject"}},
    {"PAYMENT_FAILED", {"hold", "hold", "apply", "ignore", "ignore", "ignore"}},
    {"SOMETHING_ELSE", {"ignore", "ignore", "ignore", "ignore", "ignore", "ignore"}},
  };
  for (const auto& r : table)
    for (int i = 0; i < 6; ++i)
      BOOST_TEST(step(r.type, all[i]) == r.expected[i],
                 r.type << " in " << to_string(all[i]));
}

BOOST_AUTO_TEST_SUITE_END()
