#include "messages/json_tree.hpp"

#include "messages/utf8.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace flashsale {

namespace {

// Iterative: no recursion however deep the input. Numbers as strings: money is read
// from its text. Validated encoding: whatever we store or echo back is valid UTF-8.
constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag
                                 | rapidjson::kParseNumbersAsStringsFlag
                                 | rapidjson::kParseValidateEncodingFlag;

/// SAX handler building a json_node tree; open containers wait on a stack.
class tree_builder
  : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, tree_builder> {
public:
  bool Null() {
    return add(json_node{});
  }
  bool Bool(bool b) {
    json_node n;
    n.kind = json_kind::boolean;
    n.flag = b;
    return add(std::move(n));
  }
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
    return add(leaf(json_kind::number, s, len));
  }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    if (!unicode({s, len}))
      return false;
    return add(leaf(json_kind::string, s, len));
  }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    if (!unicode({s, len}))
      return false;
    open_.back().keys.emplace_back(s, len);
    return true;
  }
  bool StartObject() {
    return open(json_kind::object);
  }
  bool EndObject(rapidjson::SizeType) {
    return close();
  }
  bool StartArray() {
    return open(json_kind::array);
  }
  bool EndArray(rapidjson::SizeType) {
    return close();
  }

  bool too_deep() const {
    return too_deep_;
  }
  bool not_unicode() const {
    return not_unicode_;
  }
  json_node& root() {
    return root_;
  }
  /// Where the parser is now, e.g. "items[2].price"; names the field of a parse error.
  std::string current_path() const;

private:
  static json_node leaf(json_kind kind, const char* s, rapidjson::SizeType len) {
    json_node n;
    n.kind = kind;
    n.text.assign(s, len);
    return n;
  }
  bool open(json_kind kind) {
    if (open_.size() >= max_json_depth) {
      too_deep_ = true;
      return false;
    }
    json_node n;
    n.kind = kind;
    open_.push_back(std::move(n));
    return true;
  }
  // The input's encoding is validated by RapidJSON, but not what its \u escapes name:
  // a lone surrogate ("\udc00") comes out as bytes that are no UTF-8.
  bool unicode(std::string_view text) {
    not_unicode_ = !is_valid_utf8(text);
    return !not_unicode_;
  }
  bool close() {
    json_node n = std::move(open_.back());
    open_.pop_back();
    return add(std::move(n));
  }
  bool add(json_node n) {
    if (open_.empty())
      root_ = std::move(n);
    else
      open_.back().children.push_back(std::move(n));
    return true;
  }

  std::vector<json_node> open_;
  json_node root_;
  bool too_deep_ = false;
  bool not_unicode_ = false;
};

std::string tree_builder::current_path() const {
  std::string path;
  for (const auto& frame : open_) {
    if (frame.kind == json_kind::array) {
      path += '[' + std::to_string(frame.children.size()) + ']';
    } else if (frame.keys.size() > frame.children.size()) {
      path += (path.empty() ? "" : ".") + frame.keys.back();
    } else {
      break;
    }
  }
  return path;
}

} // namespace

std::variant<json_node, json_parse_failure> parse_json_tree(std::string_view body) {
  if (body.find('\0') != std::string_view::npos)
    return json_parse_failure{json_parse_failure::nul_byte, {}, body.find('\0'), {}};
  tree_builder builder;
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  auto result = reader.Parse<parse_flags>(stream, builder);
  if (!result.IsError())
    return std::move(builder.root());
  json_parse_failure f;
  f.path = builder.current_path();
  f.offset = result.Offset();
  f.reason = rapidjson::GetParseError_En(result.Code());
  if (builder.too_deep())
    f.kind = json_parse_failure::too_deep;
  // RapidJSON itself refuses a high surrogate without its low half; we refuse the rest.
  else if (builder.not_unicode()
           || result.Code() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid)
    f.kind = json_parse_failure::not_unicode;
  else if (result.Code() == rapidjson::kParseErrorNumberTooBig)
    f.kind = json_parse_failure::number_too_big;
  return f;
}

std::string_view kind_name(json_kind kind) {
  switch (kind) {
    case json_kind::null:
      return "null";
    case json_kind::boolean:
      return "a boolean";
    case json_kind::number:
      return "a number";
    case json_kind::string:
      return "a string";
    case json_kind::array:
      return "an array";
    case json_kind::object:
      return "an object";
  }
  return "a value";
}

} // namespace flashsale
