#include "http/requests.hpp"
#include "messages/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <optional>
#include <set>
#include <string>

using namespace flashsale;
using flashsale::http::make_create_command;
using flashsale::http::parse_list_query;
using flashsale::http::field_value;

namespace {

const std::string user = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";
constexpr std::int64_t now_ms = 1767225600123; // 2026-01-01T00:00:00.123Z
constexpr std::int64_t now_s = 1767225600;
constexpr std::chrono::seconds ttl{300};

using opt = std::optional<std::string>;

list_query query_ok(const opt& user_id, const opt& limit, const opt& offset) {
  auto r = parse_list_query(user_id, limit, offset);
  if (auto* e = std::get_if<api_error>(&r))
    BOOST_FAIL("unexpected error: " << e->message);
  return std::get<list_query>(r);
}

api_error query_error(const opt& user_id, const opt& limit, const opt& offset) {
  auto r = parse_list_query(user_id, limit, offset);
  BOOST_TEST_REQUIRE(std::holds_alternative<api_error>(r));
  return std::get<api_error>(r);
}

bool mentions(const api_error& e, const std::string& word) {
  return e.message.find(word) != std::string::npos;
}

create_order_request sample_request() {
  create_order_request r;
  r.user_id = user;
  r.currency = "USD";
  r.total_amount = 3005; // 2 x 12.50 + 1 x 5.05
  r.items = {{"SKU-1", 2, 1250}, {"SKU-2", 1, 505}};
  return r;
}

create_order_request parsed(const std::string& body) {
  auto r = parse_create_order(body);
  if (auto* e = std::get_if<api_error>(&r))
    BOOST_FAIL("unexpected error: " << e->message);
  return std::get<create_order_request>(r);
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_requests)

// parse_list_query

BOOST_AUTO_TEST_CASE(list_defaults) {
  auto q = query_ok(user, std::nullopt, std::nullopt);
  BOOST_TEST(q.user_id == user);
  BOOST_TEST(q.limit == 20);
  BOOST_TEST(q.offset == 0);
}

BOOST_AUTO_TEST_CASE(list_user_id_is_required) {
  auto e = query_error(std::nullopt, opt{"10"}, opt{"0"});
  BOOST_TEST(to_string(e.code) == "INVALID_REQUEST");
  BOOST_TEST(mentions(e, "user_id"));
}

BOOST_AUTO_TEST_CASE(list_user_id_must_be_a_uuid) {
  for (const std::string bad :
       {"", "abc", "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6", // one short
        "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e0",          // one long
        "0190a6e48c1a7b3c9d2e1f2a3b4c5d6e",               // no dashes
        "{0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e}", "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6g",
        " 0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e"}) {
    auto e = query_error(bad, std::nullopt, std::nullopt);
    BOOST_TEST(to_string(e.code) == "INVALID_REQUEST", "'" << bad << "'");
    BOOST_TEST(mentions(e, "user_id"));
  }
}

BOOST_AUTO_TEST_CASE(list_user_id_is_lower_cased) {
  auto q =
    query_ok(std::string{"0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E"}, std::nullopt, std::nullopt);
  BOOST_TEST(q.user_id == user);
}

BOOST_AUTO_TEST_CASE(list_limit_in_range) {
  BOOST_TEST(query_ok(user, opt{"1"}, std::nullopt).limit == 1);
  BOOST_TEST(query_ok(user, opt{"20"}, std::nullopt).limit == 20);
  BOOST_TEST(query_ok(user, opt{"100"}, std::nullopt).limit == 100);
  BOOST_TEST(query_ok(user, opt{"007"}, std::nullopt).limit == 7);
  BOOST_TEST(query_ok(user, opt{"00000000000000000020"}, std::nullopt).limit == 20);
}

BOOST_AUTO_TEST_CASE(list_limit_out_of_range_is_validation_failed) {
  // Integers outside 1–100, negative and huge ones included: a field out of range.
  for (const std::string n : {"0", "101", "1000", "-1", "-0", "-100", "2147483648",
                              "99999999999999999999999999999999", "-0000000000000000001"}) {
    auto e = query_error(user, n, std::nullopt);
    BOOST_TEST(to_string(e.code) == "VALIDATION_FAILED", "limit=" << n << ": " << e.message);
    BOOST_TEST(mentions(e, "limit"));
  }
}

BOOST_AUTO_TEST_CASE(list_limit_not_an_integer_is_invalid_request) {
  for (const std::string n :
       {"", "abc", "1.5", "1e2", " 5", "5 ", "+5", "0x10", "-", "--1", "5abc", "１"}) {
    auto e = query_error(user, n, std::nullopt);
    BOOST_TEST(to_string(e.code) == "INVALID_REQUEST", "limit='" << n << "': " << e.message);
    BOOST_TEST(mentions(e, "limit"));
  }
}

BOOST_AUTO_TEST_CASE(list_offset) {
  BOOST_TEST(query_ok(user, std::nullopt, opt{"0"}).offset == 0);
  BOOST_TEST(query_ok(user, std::nullopt, opt{"40"}).offset == 40);
  BOOST_TEST(query_ok(user, std::nullopt, opt{"999999999"}).offset == 999999999);
  BOOST_TEST(query_ok(user, std::nullopt, opt{"000000000000040"}).offset == 40);
  BOOST_TEST(query_ok(user, std::nullopt, opt{"-0"}).offset == 0);
  BOOST_TEST(query_ok(user, opt{"5"}, opt{"10"}).limit == 5);
  BOOST_TEST(query_ok(user, opt{"5"}, opt{"10"}).offset == 10);

  for (const std::string n : {"-1", "1000000000", "99999999999999999999999999"}) {
    auto e = query_error(user, std::nullopt, n);
    BOOST_TEST(to_string(e.code) == "VALIDATION_FAILED", "offset=" << n << ": " << e.message);
    BOOST_TEST(mentions(e, "offset"));
  }
  for (const std::string n : {"", "abc", "1.0", "+1"}) {
    auto e = query_error(user, std::nullopt, n);
    BOOST_TEST(to_string(e.code) == "INVALID_REQUEST", "offset='" << n << "': " << e.message);
    BOOST_TEST(mentions(e, "offset"));
  }
}

BOOST_AUTO_TEST_CASE(list_user_id_is_checked_first) {
  auto e = query_error(std::string{"nope"}, opt{"abc"}, opt{"-1"});
  BOOST_TEST(mentions(e, "user_id"));
}

// make_create_command

BOOST_AUTO_TEST_CASE(create_command_order) {
  auto cmd = make_create_command(sample_request(), "key-1", now_ms, ttl);
  const order& o = cmd.fresh;
  BOOST_TEST(normalize_uuid(o.id).value_or("") == o.id); // a valid, lower-case UUID
  BOOST_TEST(o.user_id == user);
  BOOST_TEST(to_string(o.status) == "CREATED");
  BOOST_TEST(o.currency == "USD");
  BOOST_TEST(o.total_amount == 3005);
  BOOST_TEST_REQUIRE(o.items.size() == 2u);
  BOOST_TEST(o.items[0].sku_id == "SKU-1");
  BOOST_TEST(o.items[0].quantity == 2);
  BOOST_TEST(o.items[0].price == 1250);
  BOOST_TEST(o.items[1].sku_id == "SKU-2");
  BOOST_TEST(o.created_at == now_s);
  BOOST_TEST(o.updated_at == now_s);
  BOOST_TEST_REQUIRE(o.expired_at.has_value());
  BOOST_TEST(*o.expired_at == o.created_at + ttl.count());
  BOOST_TEST(o.reason.empty());
  BOOST_TEST(cmd.idempotency_key == "key-1");
}

BOOST_AUTO_TEST_CASE(create_command_deadline_follows_the_ttl) {
  for (auto t : {std::chrono::seconds{1}, std::chrono::seconds{3}, std::chrono::seconds{86400}}) {
    auto cmd = make_create_command(sample_request(), "k", now_ms, t);
    BOOST_TEST(cmd.fresh.expired_at.value_or(0) == now_s + t.count());
  }
}

BOOST_AUTO_TEST_CASE(create_command_ids_are_fresh) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i)
    ids.insert(make_create_command(sample_request(), "k", now_ms, ttl).fresh.id);
  BOOST_TEST(ids.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(create_command_event) {
  auto cmd = make_create_command(sample_request(), "k", now_ms, ttl);
  const auto& e = cmd.created_event;
  BOOST_TEST(e.event_type == "ORDER_CREATED");
  BOOST_TEST(e.order_id == cmd.fresh.id); // the Kafka message key
  BOOST_TEST(normalize_uuid(e.event_id).value_or("") == e.event_id);
  BOOST_TEST(e.event_id != cmd.fresh.id);

  rapidjson::Document doc;
  doc.Parse(e.envelope.data(), e.envelope.size());
  BOOST_TEST_REQUIRE(!doc.HasParseError(), e.envelope);
  BOOST_TEST_REQUIRE(doc.IsObject());
  BOOST_TEST(std::string{doc["event_type"].GetString()} == "ORDER_CREATED");
  BOOST_TEST(std::string{doc["event_id"].GetString()} == e.event_id);
  const auto& payload = doc["payload"];
  BOOST_TEST_REQUIRE(payload.IsObject());
  BOOST_TEST(std::string{payload["order_id"].GetString()} == cmd.fresh.id);
  BOOST_TEST(std::string{payload["user_id"].GetString()} == user);
  BOOST_TEST(std::string{payload["currency"].GetString()} == "USD");
  BOOST_TEST(payload["items"].Size() == 2u);
}

BOOST_AUTO_TEST_CASE(create_command_fingerprint) {
  auto a = make_create_command(sample_request(), "k", now_ms, ttl);
  auto b = make_create_command(sample_request(), "other-key", now_ms + 5000, ttl);
  BOOST_TEST(!a.fingerprint.empty());
  BOOST_TEST(a.fingerprint == b.fingerprint); // equal requests, whatever key or time
  BOOST_TEST(a.fresh.id != b.fresh.id);

  auto different = sample_request();
  different.items[1].quantity = 2;
  different.total_amount = 3510;
  BOOST_TEST(make_create_command(different, "k", now_ms, ttl).fingerprint != a.fingerprint);

  auto other_user = sample_request();
  other_user.user_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  BOOST_TEST(make_create_command(other_user, "k", now_ms, ttl).fingerprint != a.fingerprint);
}

BOOST_AUTO_TEST_CASE(create_command_fingerprint_ignores_json_spelling) {
  auto a = parsed(R"({"user_id":")" + user
                  + R"(","currency":"USD","total_amount":30.05,"items":[)"
                    R"({"sku_id":"SKU-1","quantity":2,"price":12.50},)"
                    R"({"sku_id":"SKU-2","quantity":1,"price":5.05}]})");
  auto b = parsed(R"({ "items" : [ {"price":12.5,"quantity":2,"sku_id":"SKU-1"},)"
                  R"( {"quantity":1,"sku_id":"SKU-2","price":5.050} ],)"
                  R"( "total_amount" : 30.050, "currency":"USD", "user_id":")"
                  + user + R"(" })");
  BOOST_TEST(make_create_command(a, "k", now_ms, ttl).fingerprint
             == make_create_command(b, "k", now_ms, ttl).fingerprint);
}

BOOST_AUTO_TEST_CASE(x_user_id_is_optional_a_uuid_and_normalised) {
  using flashsale::http::parse_caller;
  BOOST_TEST(std::get<std::string>(parse_caller(std::nullopt)).empty());
  BOOST_TEST(std::get<std::string>(parse_caller(opt{"0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E"}))
             == user);
  for (const std::string& bad :
       std::vector<std::string>{"", "nope", "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6", user + " "}) {
    auto r = parse_caller(opt{bad});
    BOOST_REQUIRE(std::holds_alternative<api_error>(r));
    BOOST_TEST(to_string(std::get<api_error>(r).code) == "INVALID_REQUEST");
    BOOST_TEST(mentions(std::get<api_error>(r), "X-User-Id"));
  }
}

// RFC 9110 §5.5: the spaces and tabs around a field value are no part of it.
BOOST_AUTO_TEST_CASE(field_values_lose_the_whitespace_around_them) {
  BOOST_TEST(field_value("key-1") == "key-1");
  BOOST_TEST(field_value("  key-1 \t ") == "key-1");
  BOOST_TEST(field_value("\tkey 1\t") == "key 1"); // inside, a space stays
  BOOST_TEST(field_value(" \t ") == "");
  BOOST_TEST(field_value("") == "");
  BOOST_TEST(field_value("\x01k\x01") == "\x01k\x01"); // only SP and HTAB are whitespace
}

BOOST_AUTO_TEST_SUITE_END()
