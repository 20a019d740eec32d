#include "messages/api_error.hpp"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <vector>

using namespace flashsale;

namespace {

struct code_case {
  error_code code;
  const char* name;
  int status;
};

/// Parses an error body and returns {code, message}; fails the test if malformed.
std::pair<std::string, std::string> read_error_body(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  BOOST_TEST_REQUIRE(!doc.HasParseError(), body);
  BOOST_TEST_REQUIRE(doc.IsObject());
  BOOST_TEST_REQUIRE(doc.MemberCount() == 1u);
  BOOST_TEST_REQUIRE(doc.HasMember("error"));
  const auto& err = doc["error"];
  BOOST_TEST_REQUIRE(err.IsObject());
  BOOST_TEST_REQUIRE(err.MemberCount() == 2u);
  BOOST_TEST_REQUIRE(err.HasMember("code"));
  BOOST_TEST_REQUIRE(err.HasMember("message"));
  BOOST_TEST_REQUIRE(err["code"].IsString());
  BOOST_TEST_REQUIRE(err["message"].IsString());
  return {err["code"].GetString(),
          std::string(err["message"].GetString(), err["message"].GetStringLength())};
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_error_suite)

BOOST_AUTO_TEST_CASE(every_code_has_its_contract_name_and_status) {
  const std::vector<code_case> cases{
    {error_code::invalid_request, "INVALID_REQUEST", 400},
    {error_code::validation_failed, "VALIDATION_FAILED", 400},
    {error_code::forbidden, "FORBIDDEN", 403},
    {error_code::order_not_found, "ORDER_NOT_FOUND", 404},
    {error_code::not_found, "NOT_FOUND", 404},
    {error_code::method_not_allowed, "METHOD_NOT_ALLOWED", 405},
    {error_code::order_invalid_state, "ORDER_INVALID_STATE", 409},
    {error_code::request_timeout, "REQUEST_TIMEOUT", 408},
    {error_code::payload_too_large, "PAYLOAD_TOO_LARGE", 413},
    {error_code::idempotency_key_reused, "IDEMPOTENCY_KEY_REUSED", 422},
    {error_code::internal_error, "INTERNAL_ERROR", 500},
    {error_code::unavailable, "UNAVAILABLE", 503},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(to_string(c.code) == c.name);
      BOOST_TEST(http_status(c.code) == c.status);
    }
  }
}

BOOST_AUTO_TEST_CASE(body_has_exactly_the_contract_shape) {
  auto body = error_body_json({error_code::order_not_found, "order not found"});
  BOOST_TEST(body == R"({"error":{"code":"ORDER_NOT_FOUND","message":"order not found"}})");
}

BOOST_AUTO_TEST_CASE(default_error_is_internal) {
  api_error e;
  BOOST_TEST(read_error_body(error_body_json(e)).first == "INTERNAL_ERROR");
  BOOST_TEST(http_status(e.code) == 500);
}

BOOST_AUTO_TEST_CASE(message_is_json_escaped) {
  const std::vector<std::string> messages{
    R"(a "quoted" field)",
    R"(back\slash)",
    "line\nbreak\tand\rreturn",
    std::string("nul\0inside", 10),
    "\x01\x1f control",
    "unicode \xc3\xa9 \xe2\x82\xac",
    "</script>",
    "",
  };
  for (const auto& m : messages) {
    auto body = error_body_json({error_code::validation_failed, m});
    auto [code, message] = read_error_body(body);
    BOOST_TEST(code == "VALIDATION_FAILED");
    BOOST_TEST(message == m);
    for (char c : body)
      BOOST_TEST_REQUIRE(static_cast<unsigned char>(c) >= 0x20, "raw control char in " << body);
  }
}

// CONTRACT §3 "Ownership": only a named caller other than the owner is refused.
BOOST_AUTO_TEST_CASE(ownership_refuses_only_another_named_caller) {
  const std::string owner = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";
  BOOST_TEST(!ownership_error("", owner).has_value());
  BOOST_TEST(!ownership_error(owner, owner).has_value());
  auto e = ownership_error("7c9e6679-7425-40de-944b-e07fc1f90ae7", owner);
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST(to_string(e->code) == "FORBIDDEN");
  BOOST_TEST(http_status(e->code) == 403);
}

BOOST_AUTO_TEST_SUITE_END()
