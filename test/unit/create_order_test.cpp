#include "messages/create_order.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <set>

using namespace flashsale;

namespace {

const std::string user = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";

std::string item(const std::string& sku_json, const std::string& quantity,
                 const std::string& price) {
  return R"({"sku_id":)" + sku_json + R"(,"quantity":)" + quantity + R"(,"price":)" + price
         + "}";
}

std::string array_of(const std::vector<std::string>& elements) {
  std::string out = "[";
  for (const auto& e : elements)
    out += (out.size() > 1 ? "," : "") + e;
  return out + "]";
}

/// A create body from JSON fragments; a member set to nullopt is left out.
struct body {
  std::optional<std::string> user_id = '"' + user + '"';
  std::optional<std::string> currency = R"("USD")";
  std::optional<std::string> total_amount = "30.05";
  std::optional<std::string> items = array_of(
    {item(R"("SKU-1")", "2", "12.50"), item(R"("SKU-2")", "1", "5.05")});
  std::string extra; // more members, e.g. R"("note":1)"

  std::string json() const {
    std::string out;
    auto add = [&out](const char* key, const std::optional<std::string>& value) {
      if (value)
        out += (out.empty() ? "" : ",") + std::string("\"") + key + "\":" + *value;
    };
    add("user_id", user_id);
    add("currency", currency);
    add("total_amount", total_amount);
    add("items", items);
    if (!extra.empty())
      out += (out.empty() ? "" : ",") + extra;
    return "{" + out + "}";
  }
};

/// A body with one item; total = quantity × price must be given by the caller.
body one_item(const std::string& quantity, const std::string& price, const std::string& total,
              const std::string& sku_json = R"("SKU-1")") {
  body b;
  b.items = array_of({item(sku_json, quantity, price)});
  b.total_amount = total;
  return b;
}

create_order_request accepted(const std::string& json) {
  auto r = parse_create_order(json);
  if (auto* e = std::get_if<api_error>(&r))
    BOOST_FAIL("refused " << json << ": " << to_string(e->code) << " " << e->message);
  return std::get<create_order_request>(r);
}

api_error refused(const std::string& json) {
  auto r = parse_create_order(json);
  BOOST_TEST_REQUIRE(std::holds_alternative<api_error>(r), "accepted: " << json);
  return std::get<api_error>(r);
}

void check_invalid_request(const std::string& json) {
  BOOST_TEST_CONTEXT(json.substr(0, 200)) {
    auto e = refused(json);
    BOOST_TEST(to_string(e.code) == "INVALID_REQUEST", e.message);
    BOOST_TEST(!e.message.empty());
  }
}

/// VALIDATION_FAILED whose message starts with the field's name.
void check_validation_failed(const std::string& json, const std::string& field) {
  BOOST_TEST_CONTEXT(json.substr(0, 200)) {
    auto e = refused(json);
    BOOST_TEST(to_string(e.code) == "VALIDATION_FAILED", e.message);
    BOOST_TEST(e.message.rfind(field + " ", 0) == 0u, "'" << e.message << "' names " << field);
  }
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(create_order_suite)

// --- accepted ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(valid_body_is_parsed_into_minor_units) {
  auto r = accepted(body{}.json());
  BOOST_TEST(r.user_id == user);
  BOOST_TEST(r.currency == "USD");
  BOOST_TEST(r.total_amount == 3005);
  BOOST_TEST_REQUIRE(r.items.size() == 2u);
  BOOST_TEST(r.items[0].sku_id == "SKU-1");
  BOOST_TEST(r.items[0].quantity == 2);
  BOOST_TEST(r.items[0].price == 1250);
  BOOST_TEST(r.items[1].sku_id == "SKU-2");
  BOOST_TEST(r.items[1].quantity == 1);
  BOOST_TEST(r.items[1].price == 505);
}

BOOST_AUTO_TEST_CASE(user_id_is_lower_cased) {
  body b;
  b.user_id = R"("0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E")";
  BOOST_TEST(accepted(b.json()).user_id == user);
}

BOOST_AUTO_TEST_CASE(formatting_and_key_order_do_not_matter) {
  std::string json = "\n { \"items\" : [ { \"price\" : 12.5 , \"quantity\" : 2 , "
                     "\"sku_id\" : \"SKU-1\" } ] ,\r\n\t\"total_amount\" : 25 , "
                     "\"currency\" : \"USD\" , \"user_id\" : \""
                     + user + "\" } \n";
  auto r = accepted(json);
  BOOST_TEST(r.total_amount == 2500);
  BOOST_TEST(r.items.at(0).price == 1250);
}

BOOST_AUTO_TEST_CASE(numbers_may_use_any_exact_spelling) {
  auto r = accepted(one_item("2", "1.25e1", "2500e-2").json());
  BOOST_TEST(r.items.at(0).price == 1250);
  BOOST_TEST(r.total_amount == 2500);
  BOOST_TEST(accepted(one_item("2", "12.340", "24.680").json()).total_amount == 2468);
}

// Decision: quantity is judged by value, so 5.0 and 5e0 are five; 5.5 is refused.
BOOST_AUTO_TEST_CASE(quantity_5_0_is_accepted_as_five) {
  BOOST_TEST(accepted(one_item("5.0", "1", "5").json()).items.at(0).quantity == 5);
  BOOST_TEST(accepted(one_item("5e0", "1", "5").json()).items.at(0).quantity == 5);
  BOOST_TEST(accepted(one_item("0.5e1", "1", "5").json()).items.at(0).quantity == 5);
  BOOST_TEST(accepted(one_item("1e4", "1", "10000").json()).items.at(0).quantity == 10000);
}

BOOST_AUTO_TEST_CASE(tenth_times_three_equals_three_tenths) {
  auto r = accepted(one_item("3", "0.1", "0.3").json());
  BOOST_TEST(r.total_amount == 30);
  BOOST_TEST(accepted(one_item("3", "0.10", "0.30").json()).total_amount == 30);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
  body b;
  b.extra = R"("note":"hi","meta":{"a":[1,2,{"b":null}]},"flag":true,"n":1.23456)";
  b.items = array_of({R"({"sku_id":"SKU-1","quantity":2,"price":12.50,"color":"red"})",
                      item(R"("SKU-2")", "1", "5.05")});
  auto r = accepted(b.json());
  BOOST_TEST(r.items.size() == 2u);
}

BOOST_AUTO_TEST_CASE(limits_are_inclusive) {
  accepted(one_item("1", "0.01", "0.01").json());
  accepted(one_item("10000", "0.01", "100").json());
  accepted(one_item("1", "10000000000000", "10000000000000").json());
  accepted(one_item("1", "1", "1", '"' + std::string(64, 'x') + '"').json());
  accepted(one_item("1", "1", "1", R"("x")").json());
  body hundred;
  hundred.items = array_of(std::vector<std::string>(100, item(R"("S")", "1", "1")));
  hundred.total_amount = "100";
  BOOST_TEST(accepted(hundred.json()).items.size() == 100u);
}

BOOST_AUTO_TEST_CASE(sku_length_counts_characters_not_bytes) {
  std::string e_acute = "\xc3\xa9";
  accepted(one_item("1", "1", "1", '"' + repeat(e_acute, 64) + '"').json());
  check_validation_failed(one_item("1", "1", "1", '"' + repeat(e_acute, 65) + '"').json(),
                          "items[0].sku_id");
  // Escaped spellings count once they are decoded.
  accepted(one_item("1", "1", "1", '"' + repeat("\\u00e9", 64) + '"').json());
}

BOOST_AUTO_TEST_CASE(the_sum_may_reach_max_money) {
  body b;
  b.items = array_of({item(R"("A")", "10000", "500000000"), item(R"("B")", "10000", "500000000")});
  b.total_amount = "10000000000000";
  BOOST_TEST(accepted(b.json()).total_amount == max_money);
}

// --- INVALID_REQUEST -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(not_json_is_an_invalid_request) {
  for (std::string json : {"", " ", "not json", "{", "}", "{\"user_id\":", "{'a':1}",
                           "{\"a\":1,}", "[1,]", "{\"a\":NaN}", "{\"a\":Infinity}",
                           "{\"a\":1} // c", "/* c */ {}", "{\"a\":01}", "{\"a\":1.}",
                           "{\"a\":.5}", "{\"a\":+1}", "{\"a\":\"\\x\"}", "{a:1}",
                           "\xef\xbb\xbf{}"}) {
    check_invalid_request(json);
  }
}

BOOST_AUTO_TEST_CASE(trailing_garbage_is_an_invalid_request) {
  auto json = body{}.json();
  check_invalid_request(json + "x");
  check_invalid_request(json + "{}");
  check_invalid_request(json + json);
  check_invalid_request(json + " 1");
  check_invalid_request(json + std::string(1, '\0') + "garbage");
  check_invalid_request(json + std::string(1, '\0'));
}

BOOST_AUTO_TEST_CASE(body_must_be_an_object) {
  for (std::string json : {"[]", "[{}]", "\"text\"", "123", "null", "true", "1e400"})
    check_invalid_request(json);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_an_invalid_request) {
  check_invalid_request(one_item("1", "1", "1", "\"A\xff\"").json());
  check_invalid_request(one_item("1", "1", "1", "\"A\xc3\"").json());
  check_invalid_request(one_item("1", "1", "1", "\"\xed\xa0\x80\"").json()); // surrogate
}

// RapidJSON decodes an escaped lone surrogate into bytes that are no UTF-8: PostgreSQL
// refused them with 500s for a whole write batch (issue 12).
BOOST_AUTO_TEST_CASE(escaped_lone_surrogates_are_an_invalid_request) {
  for (std::string sku : {R"("\udc00")", R"("A\udfff")", R"("\ud800")", R"("\ud800x")",
                          R"("\ud800\u0041")", R"("\udc00\ud800")", R"("\uDBFF")"}) {
    BOOST_TEST_CONTEXT(sku) {
      auto e = refused(one_item("1", "1", "1", sku).json());
      BOOST_TEST(to_string(e.code) == "INVALID_REQUEST", e.message);
      BOOST_TEST(e.message.find("items[0].sku_id") != std::string::npos, e.message);
    }
  }
  body in_unknown_field;
  in_unknown_field.extra = R"("note":"\udc00")";
  check_invalid_request(in_unknown_field.json());
  body in_a_key;
  in_a_key.extra = R"("\udc00":1)";
  check_invalid_request(in_a_key.json());
  check_invalid_request(R"({"user_id":"\udc00"})");
}

BOOST_AUTO_TEST_CASE(escaped_surrogate_pairs_are_characters) {
  auto r = accepted(one_item("1", "1", "1", R"("\ud83d\ude00\uD83D\uDE00")").json());
  BOOST_TEST(r.items.at(0).sku_id == "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(missing_fields_are_an_invalid_request) {
  body no_user, no_currency, no_total, no_items;
  no_user.user_id.reset();
  no_currency.currency.reset();
  no_total.total_amount.reset();
  no_items.items.reset();
  for (const auto* b : {&no_user, &no_currency, &no_total, &no_items})
    check_invalid_request(b->json());
  check_invalid_request("{}");
  check_invalid_request(array_of({})); // []
  for (const char* it : {R"({"quantity":1,"price":1})", R"({"sku_id":"A","price":1})",
                         R"({"sku_id":"A","quantity":1})", "{}"}) {
    body b;
    b.items = array_of({it});
    b.total_amount = "1";
    check_invalid_request(b.json());
  }
}

BOOST_AUTO_TEST_CASE(missing_field_message_names_it) {
  body b;
  b.items = array_of({item(R"("A")", "1", "1"), R"({"sku_id":"B","quantity":1})"});
  b.total_amount = "2";
  auto e = refused(b.json());
  BOOST_TEST(to_string(e.code) == "INVALID_REQUEST");
  BOOST_TEST(e.message.find("items[1].price") != std::string::npos, e.message);
}

BOOST_AUTO_TEST_CASE(wrong_types_are_an_invalid_request) {
  auto with = [](auto change) {
    body b;
    change(b);
    return b.json();
  };
  for (const char* v : {"1", "null", "true", "[]", "{}"})
    check_invalid_request(with([v](body& b) { b.user_id = v; }));
  for (const char* v : {"1", "null", "[\"USD\"]", "{}"})
    check_invalid_request(with([v](body& b) { b.currency = v; }));
  for (const char* v : {"\"30.05\"", "null", "true", "[30.05]", "{}"})
    check_invalid_request(with([v](body& b) { b.total_amount = v; }));
  for (const char* v : {"\"x\"", "null", "1", "{}", "{\"0\":{}}"})
    check_invalid_request(with([v](body& b) { b.items = v; }));
  for (const char* v : {"1", "null", "\"x\"", "[]"})
    check_invalid_request(with([v](body& b) { b.items = array_of({v}); }));
}

BOOST_AUTO_TEST_CASE(wrongly_typed_item_fields_are_an_invalid_request) {
  check_invalid_request(one_item("\"5\"", "1", "5").json());
  check_invalid_request(one_item("null", "1", "5").json());
  check_invalid_request(one_item("true", "1", "5").json());
  check_invalid_request(one_item("[5]", "1", "5").json());
  check_invalid_request(one_item("5", "\"1\"", "5").json());
  check_invalid_request(one_item("5", "\"1.00\"", "5").json());
  check_invalid_request(one_item("5", "null", "5").json());
  check_invalid_request(one_item("5", "{}", "5").json());
  check_invalid_request(one_item("1", "1", "1", "1").json());
  check_invalid_request(one_item("1", "1", "1", "null").json());
  check_invalid_request(one_item("1", "1", "1", "[\"A\"]").json());
}

BOOST_AUTO_TEST_CASE(quantity_given_as_a_string_names_the_field) {
  auto e = refused(one_item("\"5\"", "1", "5").json());
  BOOST_TEST(to_string(e.code) == "INVALID_REQUEST");
  BOOST_TEST(e.message.find("items[0].quantity") != std::string::npos, e.message);
}

BOOST_AUTO_TEST_CASE(malformed_user_id_is_an_invalid_request) {
  for (const char* v : {R"("")", R"("not-a-uuid")", R"("0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6")",
                        R"("0190a6e48c1a7b3c9d2e1f2a3b4c5d6e")",
                        R"("{0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e}")",
                        R"(" 0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e")",
                        R"("0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6x")"}) {
    body b;
    b.user_id = v;
    check_invalid_request(b.json());
    BOOST_TEST(refused(b.json()).message.find("user_id") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(duplicated_fields_are_an_invalid_request) {
  body b;
  b.extra = R"("currency":"EUR")";
  check_invalid_request(b.json());
  b.extra = R"("items":[])";
  check_invalid_request(b.json());
  check_invalid_request(one_item("1", "1", "1", R"("A","sku_id":"B")").json());
}

BOOST_AUTO_TEST_CASE(type_errors_win_over_value_errors) {
  body b;
  b.currency = R"("usd")";
  b.items = R"("not an array")";
  check_invalid_request(b.json());
  auto only_value_errors = one_item("0", "0", "0");
  only_value_errors.currency = R"("usd")";
  check_validation_failed(only_value_errors.json(), "currency");
}

BOOST_AUTO_TEST_CASE(deep_nesting_does_not_crash) {
  // Within the 64 KiB limit the parser itself meets the depth.
  check_invalid_request(std::string(60000, '['));
  check_invalid_request(std::string(60000, '{'));
  check_invalid_request(repeat("{\"a\":", 10000));
  check_invalid_request(std::string(30000, '[') + std::string(30000, ']'));
  body b;
  b.extra = "\"x\":" + std::string(30000, '[') + std::string(30000, ']');
  check_invalid_request(b.json());
  b.extra = "\"x\":" + std::string(60000, '[');
  check_invalid_request(b.json());
}

BOOST_AUTO_TEST_CASE(very_deep_nesting_beyond_the_size_limit_does_not_crash) {
  for (auto json : {std::string(100000, '['), std::string(100000, '[') + std::string(100000, ']'),
                    repeat("{\"a\":", 100000)}) {
    auto e = refused(json);
    BOOST_TEST(to_string(e.code) == "PAYLOAD_TOO_LARGE");
  }
}

BOOST_AUTO_TEST_CASE(numbers_too_long_for_a_double_are_out_of_range) {
  auto huge = "1" + std::string(400, '0');
  body b;
  b.total_amount = huge;
  check_validation_failed(b.json(), "total_amount");
  check_validation_failed(one_item(huge, "1", "1").json(), "items[0].quantity");
  check_validation_failed(one_item("1", huge, "1").json(), "items[0].price");
  check_validation_failed(one_item("1", "1e309", "1").json(), "items[0].price");
}

BOOST_AUTO_TEST_CASE(moderate_nesting_in_unknown_fields_is_fine) {
  body b;
  b.extra = "\"x\":" + std::string(20, '[') + std::string(20, ']');
  accepted(b.json());
}

BOOST_AUTO_TEST_CASE(huge_number_in_a_non_numeric_field_is_an_invalid_request) {
  body b;
  b.user_id = "1e400";
  check_invalid_request(b.json());
  b = body{};
  b.currency = "1e400";
  check_invalid_request(b.json());
}

BOOST_AUTO_TEST_CASE(oversized_body_is_payload_too_large) {
  body b;
  b.extra = "\"pad\":\"" + std::string(max_body_bytes, ' ') + '"';
  auto e = refused(b.json());
  BOOST_TEST(to_string(e.code) == "PAYLOAD_TOO_LARGE");
  BOOST_TEST(http_status(e.code) == 413);
}

// --- VALIDATION_FAILED ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(currency_must_be_three_upper_case_letters) {
  for (const char* v : {R"("usd")", R"("Usd")", R"("US")", R"("USDD")", R"("")", R"("U1D")",
                        R"("U D")", R"(" USD")", R"("\u00dcSD")", R"("\u0000SD")"}) {
    body b;
    b.currency = v;
    check_validation_failed(b.json(), "currency");
  }
  for (const char* v : {R"("EUR")", R"("JPY")", R"("XXX")"}) {
    body b;
    b.currency = v;
    accepted(b.json());
  }
}

BOOST_AUTO_TEST_CASE(total_amount_out_of_range) {
  for (const char* v : {"0", "-0", "0.00", "-1", "-30.05", "30.051", "30.0500001", "1e400",
                        "99999999999999999999", "1e-400", "10000000000000.01",
                        "123456789012345678901234567890e300"}) {
    body b;
    b.total_amount = v;
    check_validation_failed(b.json(), "total_amount");
  }
}

BOOST_AUTO_TEST_CASE(three_significant_decimals_are_refused) {
  auto e = refused(one_item("1", "12.345", "12.35").json());
  BOOST_TEST(to_string(e.code) == "VALIDATION_FAILED");
  BOOST_TEST(e.message.rfind("items[0].price ", 0) == 0u, e.message);
  check_validation_failed(one_item("1", "12.34", "12.345").json(), "total_amount");
  accepted(one_item("1", "12.340", "12.34").json());
}

BOOST_AUTO_TEST_CASE(item_count_must_be_between_1_and_100) {
  body empty;
  empty.items = "[]";
  check_validation_failed(empty.json(), "items");
  body too_many;
  too_many.items = array_of(std::vector<std::string>(101, item(R"("S")", "1", "1")));
  too_many.total_amount = "101";
  check_validation_failed(too_many.json(), "items");
}

BOOST_AUTO_TEST_CASE(sku_must_be_1_to_64_characters_without_controls) {
  for (std::string v : {std::string(R"("")"), '"' + std::string(65, 'x') + '"',
                        std::string(R"("A\u0000B")"), std::string(R"("A\nB")"),
                        std::string(R"("\t")"), std::string(R"("A\u007fB")")}) {
    body b;
    b.items = array_of({item(R"("ok")", "1", "1"), item(v, "1", "1")});
    b.total_amount = "2";
    check_validation_failed(b.json(), "items[1].sku_id");
  }
}

BOOST_AUTO_TEST_CASE(quantity_must_be_an_integer_from_1_to_10000) {
  for (const char* q : {"0", "-1", "10001", "5.5", "0.5", "1.001", "1e400", "-1e400",
                        "99999999999999999999", "1e5", "1e-400", "-0"}) {
    body b;
    b.items = array_of({item(R"("A")", "1", "1"), item(R"("B")", "1", "1"),
                        item(R"("C")", q, "1")});
    b.total_amount = "3";
    check_validation_failed(b.json(), "items[2].quantity");
  }
}

BOOST_AUTO_TEST_CASE(price_must_be_positive_with_at_most_two_decimals) {
  for (const char* p : {"0", "-1", "-0.01", "0.001", "1.999", "1e400", "1e-400",
                        "99999999999999999999", "10000000000000.01"}) {
    check_validation_failed(one_item("1", p, "1").json(), "items[0].price");
  }
}

BOOST_AUTO_TEST_CASE(total_must_equal_the_sum_exactly) {
  check_validation_failed(one_item("2", "12.50", "25.01").json(), "total_amount");
  check_validation_failed(one_item("2", "12.50", "24.99").json(), "total_amount");
  check_validation_failed(one_item("3", "0.1", "0.31").json(), "total_amount");
  body b;
  b.total_amount = "30.04";
  check_validation_failed(b.json(), "total_amount");
}

BOOST_AUTO_TEST_CASE(sum_overflow_is_refused_not_wrapped) {
  // 10000 × 10^13 overflows max_money; the total cannot match it.
  check_validation_failed(one_item("10000", "10000000000000", "10000000000000").json(),
                          "total_amount");
  body b;
  b.items = array_of(std::vector<std::string>(100, item(R"("S")", "10000", "10000000000000")));
  b.total_amount = "10000000000000";
  check_validation_failed(b.json(), "total_amount");
}

// --- idempotency key -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(idempotency_key_is_1_to_64_printable_ascii) {
  BOOST_TEST(valid_idempotency_key("a"));
  BOOST_TEST(valid_idempotency_key("order-2026-01-01/42"));
  BOOST_TEST(valid_idempotency_key("has space inside"));
  BOOST_TEST(valid_idempotency_key(std::string(64, 'k')));
  std::string all_printable;
  for (char c = 0x21; c <= 0x7e && all_printable.size() < 64; ++c)
    all_printable += c;
  BOOST_TEST(valid_idempotency_key(all_printable));
  BOOST_TEST(!valid_idempotency_key(""));
  BOOST_TEST(!valid_idempotency_key(std::string(65, 'k')));
  BOOST_TEST(!valid_idempotency_key(" leading"));
  BOOST_TEST(!valid_idempotency_key("trailing "));
  BOOST_TEST(!valid_idempotency_key(" "));
  BOOST_TEST(!valid_idempotency_key("tab\there"));
  BOOST_TEST(!valid_idempotency_key("new\nline"));
  BOOST_TEST(!valid_idempotency_key("del\x7f"));
  BOOST_TEST(!valid_idempotency_key(std::string("nul\0", 4)));
  BOOST_TEST(!valid_idempotency_key("caf\xc3\xa9"));
}

// --- fingerprint -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fingerprint_is_128_bits_of_hex) {
  auto f = request_fingerprint(accepted(body{}.json()));
  BOOST_TEST(f.size() == 32u);
  BOOST_TEST(f.find_first_not_of("0123456789abcdef") == std::string::npos, f);
}

// Stored request hashes must keep matching after an upgrade; change this value only
// together with a migration of orders.request_hash.
BOOST_AUTO_TEST_CASE(fingerprint_is_stable_across_releases) {
  create_order_request r;
  r.user_id = user;
  r.currency = "USD";
  r.total_amount = 3005;
  r.items = {{"SKU-1", 2, 1250}, {"SKU-2", 1, 505}};
  BOOST_TEST(request_fingerprint(r) == "50ff2be417389d3cca58bebcbdff3c5e");
}

BOOST_AUTO_TEST_CASE(fingerprint_ignores_spelling_and_layout) {
  auto reference = request_fingerprint(accepted(body{}.json()));
  std::vector<std::string> same{
    R"({"items":[{"price":12.5,"quantity":2,"sku_id":"SKU-1"},{"sku_id":"SKU-2","quantity":1.0,"price":505e-2}],"total_amount":3005e-2,"currency":"USD","user_id":"0190A6E4-8C1A-7B3C-9D2E-1F2A3B4C5D6E"})",
    "  " + body{}.json() + "\n",
  };
  body extra;
  extra.extra = R"("note":"ignored")";
  same.push_back(extra.json());
  for (const auto& json : same)
    BOOST_TEST(request_fingerprint(accepted(json)) == reference, json);
}

BOOST_AUTO_TEST_CASE(fingerprint_tells_different_requests_apart) {
  create_order_request base;
  base.user_id = user;
  base.currency = "USD";
  base.total_amount = 3005;
  base.items = {{"SKU-1", 2, 1250}, {"SKU-2", 1, 505}};
  auto reference = request_fingerprint(base);
  std::vector<create_order_request> variants(8, base);
  variants[0].user_id = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6f";
  variants[1].currency = "EUR";
  variants[2].total_amount = 3006;
  variants[3].items[0].quantity = 3;
  variants[4].items[0].price = 1251;
  variants[5].items[0].sku_id = "SKU-3";
  std::swap(variants[6].items[0], variants[6].items[1]);
  variants[7].items.pop_back();
  std::set<std::string> seen{reference};
  for (const auto& v : variants)
    seen.insert(request_fingerprint(v));
  BOOST_TEST(seen.size() == variants.size() + 1);
}

BOOST_AUTO_TEST_CASE(fingerprint_is_not_fooled_by_separators_in_skus) {
  create_order_request a;
  a.user_id = user;
  a.currency = "USD";
  a.total_amount = 100;
  a.items = {{"A", 12, 5}};
  auto b = a;
  b.items = {{"A1", 2, 5}};
  auto c = a;
  c.items = {{"A\n12", 5, 0}};
  BOOST_TEST(request_fingerprint(a) != request_fingerprint(b));
  BOOST_TEST(request_fingerprint(a) != request_fingerprint(c));
}

BOOST_AUTO_TEST_SUITE_END()
