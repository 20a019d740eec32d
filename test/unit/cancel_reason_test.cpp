#include "messages/create_order.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace flashsale;

namespace {

std::string reason_of(const std::string& body) {
  auto r = parse_cancel_reason(body);
  if (auto* e = std::get_if<api_error>(&r))
    BOOST_FAIL("refused '" << body << "': " << to_string(e->code) << " " << e->message);
  return std::get<std::string>(r);
}

api_error error_of(const std::string& body) {
  auto r = parse_cancel_reason(body);
  BOOST_TEST_REQUIRE(std::holds_alternative<api_error>(r), "accepted: " << body);
  return std::get<api_error>(r);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cancel_reason_suite)

BOOST_AUTO_TEST_CASE(no_reason_means_user_cancel) {
  for (std::string body : {"", " ", "\r\n\t ", "{}", " { } ", R"({"other":1})"})
    BOOST_TEST(reason_of(body) == "USER_CANCEL", "'" << body << "'");
}

BOOST_AUTO_TEST_CASE(the_two_contract_reasons_are_accepted) {
  BOOST_TEST(reason_of(R"({"reason":"USER_CANCEL"})") == "USER_CANCEL");
  BOOST_TEST(reason_of(R"({"reason":"STOCK_EXHAUSTED"})") == "STOCK_EXHAUSTED");
  BOOST_TEST(reason_of(R"( {"note":[1,2], "reason" : "STOCK_EXHAUSTED"} )") == "STOCK_EXHAUSTED");
  BOOST_TEST(reason_of(R"({"reason":"USER_\u0043ANCEL"})") == "USER_CANCEL");
}

BOOST_AUTO_TEST_CASE(other_reason_strings_fail_validation_naming_reason) {
  for (std::string body : {R"({"reason":"user_cancel"})", R"({"reason":""})",
                           R"({"reason":"PAYMENT_FAILED"})", R"({"reason":"USER_CANCEL "})",
                           R"({"reason":"RESERVATION_TTL"})"}) {
    auto e = error_of(body);
    BOOST_TEST(to_string(e.code) == "VALIDATION_FAILED", body);
    BOOST_TEST(e.message.rfind("reason ", 0) == 0u, e.message);
  }
}

BOOST_AUTO_TEST_CASE(non_json_and_wrong_types_are_invalid_requests) {
  const std::vector<std::string> bodies{"nope", "{", "[]", R"("USER_CANCEL")", "null", "1", "USER_CANCEL",
                           R"({"reason":5})", R"({"reason":null})", R"({"reason":true})",
                           R"({"reason":["USER_CANCEL"]})", R"({"reason":{}})",
                           R"({"reason":1e400})", R"({"reason":"USER_CANCEL"} x)",
                           R"({"reason":"USER_CANCEL","reason":"STOCK_EXHAUSTED"})",
                           std::string(60000, '['), std::string("{}\0x", 4)};
  for (const auto& body : bodies) {
    auto e = error_of(body);
    BOOST_TEST(to_string(e.code) == "INVALID_REQUEST", body.substr(0, 80) << ": " << e.message);
  }
}

BOOST_AUTO_TEST_CASE(oversized_body_is_payload_too_large) {
  auto e = error_of(R"({"reason":"USER_CANCEL","pad":")" + std::string(max_body_bytes, 'x')
                    + "\"}");
  BOOST_TEST(to_string(e.code) == "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_SUITE_END()
