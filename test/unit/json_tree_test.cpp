#include "messages/json_tree.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <variant>

using namespace flashsale;

namespace {

json_node tree(const std::string& body) {
  auto r = parse_json_tree(body);
  BOOST_REQUIRE(std::holds_alternative<json_node>(r));
  return std::get<json_node>(r);
}

json_parse_failure failure(const std::string& body) {
  auto r = parse_json_tree(body);
  BOOST_REQUIRE(std::holds_alternative<json_parse_failure>(r));
  return std::get<json_parse_failure>(r);
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_tree_suite)

BOOST_AUTO_TEST_CASE(numbers_keep_their_text_and_strings_stay_strings) {
  auto root = tree(R"({"a": 1.50, "b": "5", "d": [true, null]})");
  BOOST_TEST((root.kind == json_kind::object));
  BOOST_TEST(root.keys.size() == 3u);
  BOOST_TEST((root.children[0].kind == json_kind::number));
  BOOST_TEST(root.children[0].text == "1.50"); // not 1.5: money is read from its text
  BOOST_TEST((root.children[1].kind == json_kind::string));
  BOOST_TEST(root.children[1].text == "5");
  BOOST_TEST((root.children[2].kind == json_kind::array));
  BOOST_TEST(root.children[2].children[0].flag);
  BOOST_TEST((root.children[2].children[1].kind == json_kind::null));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_all_kept_for_the_caller_to_judge) {
  auto root = tree(R"({"k": 1, "k": 2})");
  BOOST_TEST(root.keys.size() == 2u);
}

BOOST_AUTO_TEST_CASE(nesting_beyond_the_bound_is_refused_without_recursion) {
  std::string ok(max_json_depth, '[');
  ok += std::string(max_json_depth, ']');
  tree(ok);
  std::string deep(100000, '[');
  auto f = failure(deep);
  BOOST_TEST((f.kind == json_parse_failure::too_deep));
}

BOOST_AUTO_TEST_CASE(a_lone_surrogate_names_where_it_was) {
  auto f = failure(R"({"items": [{"sku": "\udc00"}]})");
  BOOST_TEST((f.kind == json_parse_failure::not_unicode));
  BOOST_TEST(f.path == "items[0].sku");
  BOOST_TEST((failure(R"({"\ud800x": 1})").kind == json_parse_failure::not_unicode));
}

BOOST_AUTO_TEST_CASE(syntax_errors_nul_bytes_and_huge_numbers_are_told_apart) {
  auto f = failure(R"({"a": 1,})");
  BOOST_TEST((f.kind == json_parse_failure::syntax));
  BOOST_TEST(f.offset == 8u);
  BOOST_TEST(!f.reason.empty());
  BOOST_TEST((failure(std::string{"{}\0{", 4}).kind == json_parse_failure::nul_byte));
  auto big = failure(R"({"total_amount": 1)" + std::string(400, '0') + "}");
  BOOST_TEST((big.kind == json_parse_failure::number_too_big));
  BOOST_TEST(big.path == "total_amount");
}

BOOST_AUTO_TEST_CASE(kinds_have_names_for_error_messages) {
  BOOST_TEST(kind_name(json_kind::object) == "an object");
  BOOST_TEST(kind_name(json_kind::number) == "a number");
}

BOOST_AUTO_TEST_SUITE_END()
