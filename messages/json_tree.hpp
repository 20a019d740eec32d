#pragma once
// A small JSON tree for request bodies: every number keeps its text (money is read from
// its text, and `"quantity": "5"` must stay a string), nesting is bounded while parsing,
// strings and keys are valid Unicode. Plain code over RapidJSON's reader; no I/O.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flashsale {

enum class json_kind { null, boolean, number, string, array, object };

/// A JSON value. RapidJSON's DOM would either convert numbers to double or, with numbers
/// as strings, lose the number/string distinction.
struct json_node {
  json_kind kind = json_kind::null;
  bool flag = false;               // a boolean's value
  std::string text;                // a number's text or a string's value
  std::vector<std::string> keys;   // object member names, parallel to children
  std::vector<json_node> children; // array elements or object member values
};

/// Why a body is no JSON tree, and where the reader was then.
struct json_parse_failure {
  enum kind_t {
    nul_byte,       // RapidJSON reads NUL as the end of input: text after one would go unseen
    too_deep,       // more than max_json_depth open containers
    not_unicode,    // a string or key that is no valid UTF-8 (e.g. an escaped lone surrogate)
    number_too_big, // beyond double range, although the reader hands numbers over as text
    syntax,         // anything else the reader refuses
  } kind = syntax;
  std::string path;   // where the reader was, e.g. "items[2].price"; empty at the top
  std::size_t offset = 0; // byte offset of the error
  std::string reason; // the reader's words for a syntax error
};

/// Bodies of ours are three levels deep; deeper input is refused while parsing, so the
/// tree (and everything that walks or frees it) stays shallow.
constexpr std::size_t max_json_depth = 32;

/// Parses `body` without recursion, however deep the input.
std::variant<json_node, json_parse_failure> parse_json_tree(std::string_view body);

/// "null", "a boolean", "a number", "a string", "an array", "an object".
std::string_view kind_name(json_kind kind);

} // namespace flashsale
