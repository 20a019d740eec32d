#include "messages/order.hpp"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

using namespace flashsale;

namespace {

order sample_order() {
  order o;
  o.id = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";
  o.user_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  o.status = order_status::created;
  o.currency = "USD";
  o.total_amount = 3005;
  o.items = {{"SKU-1", 2, 1250}, {"SKU-2", 1, 505}};
  o.created_at = 1767225600;
  o.updated_at = 1767225601;
  o.expired_at = 1767225900;
  return o;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  BOOST_TEST_REQUIRE(!doc.HasParseError(), json);
  return doc;
}

} // namespace

BOOST_AUTO_TEST_SUITE(order_json_suite)

BOOST_AUTO_TEST_CASE(order_json_has_the_contract_fields_in_order) {
  BOOST_TEST(order_to_json(sample_order())
             == R"({"id":"0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e",)"
                R"("user_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","status":"CREATED",)"
                R"("currency":"USD","total_amount":30.05,)"
                R"("items":[{"sku_id":"SKU-1","quantity":2,"price":12.50},)"
                R"({"sku_id":"SKU-2","quantity":1,"price":5.05}],)"
                R"("created_at":1767225600,"updated_at":1767225601,"expired_at":1767225900})");
}

BOOST_AUTO_TEST_CASE(money_is_a_json_number_with_two_decimals) {
  auto o = sample_order();
  o.total_amount = 2500;
  o.items = {{"A", 2, 1250}};
  auto json = order_to_json(o);
  BOOST_TEST(json.find(R"("total_amount":25.00,)") != std::string::npos, json);
  BOOST_TEST(json.find(R"("price":12.50})") != std::string::npos, json);
  auto doc = parse(json);
  BOOST_TEST(doc["total_amount"].IsNumber());
  BOOST_TEST(doc["items"][0]["price"].IsNumber());
}

BOOST_AUTO_TEST_CASE(largest_amount_is_written_exactly) {
  auto o = sample_order();
  o.total_amount = max_money;
  o.items = {{"A", 1, max_money}};
  auto json = order_to_json(o);
  BOOST_TEST(json.find(R"("total_amount":10000000000000.00,)") != std::string::npos, json);
  parse(json);
}

BOOST_AUTO_TEST_CASE(expired_at_is_omitted_without_a_deadline) {
  auto o = sample_order();
  o.expired_at.reset();
  auto doc = parse(order_to_json(o));
  BOOST_TEST(!doc.HasMember("expired_at"));
  BOOST_TEST(doc["updated_at"].GetInt64() == 1767225601);
}

BOOST_AUTO_TEST_CASE(reason_only_when_set) {
  auto o = sample_order();
  BOOST_TEST(!parse(order_to_json(o)).HasMember("reason"));
  o.status = order_status::cancelled;
  o.reason = "USER_CANCEL";
  o.expired_at.reset();
  auto doc = parse(order_to_json(o));
  BOOST_TEST(std::string(doc["status"].GetString()) == "CANCELLED");
  BOOST_TEST(std::string(doc["reason"].GetString()) == "USER_CANCEL");
  BOOST_TEST(!doc.HasMember("expired_at"));
}

BOOST_AUTO_TEST_CASE(every_status_is_spelled_as_in_the_contract) {
  auto o = sample_order();
  for (auto st : {order_status::created, order_status::reserved, order_status::payment_pending,
                  order_status::paid, order_status::cancelled, order_status::expired}) {
    o.status = st;
    auto doc = parse(order_to_json(o));
    BOOST_TEST(std::string(doc["status"].GetString()) == to_string(st));
  }
}

BOOST_AUTO_TEST_CASE(times_are_integers) {
  auto doc = parse(order_to_json(sample_order()));
  BOOST_TEST(doc["created_at"].IsInt64());
  BOOST_TEST(doc["updated_at"].IsInt64());
  BOOST_TEST(doc["expired_at"].IsInt64());
  BOOST_TEST(doc["expired_at"].GetInt64() == 1767225900);
}

BOOST_AUTO_TEST_CASE(strings_are_escaped) {
  auto o = sample_order();
  o.items = {{"say \"hi\"\\\n\x01", 1, 100}};
  auto doc = parse(order_to_json(o));
  BOOST_TEST(std::string(doc["items"][0]["sku_id"].GetString()) == "say \"hi\"\\\n\x01");
}

BOOST_AUTO_TEST_CASE(no_items_is_an_empty_array) {
  auto o = sample_order();
  o.items.clear();
  auto doc = parse(order_to_json(o));
  BOOST_TEST(doc["items"].IsArray());
  BOOST_TEST(doc["items"].Size() == 0u);
}

BOOST_AUTO_TEST_CASE(response_wraps_the_order_in_data) {
  auto o = sample_order();
  BOOST_TEST(order_response_json(o) == R"({"data":)" + order_to_json(o) + "}");
}

BOOST_AUTO_TEST_CASE(list_response_wraps_an_array_in_data) {
  auto a = sample_order();
  auto b = sample_order();
  b.id = "0190a6e4-8c1a-7b3c-9d2e-000000000000";
  BOOST_TEST(order_list_response_json({}) == R"({"data":[]})");
  BOOST_TEST(order_list_response_json({a, b})
             == R"({"data":[)" + order_to_json(a) + "," + order_to_json(b) + "]}");
}

BOOST_AUTO_TEST_SUITE_END()
