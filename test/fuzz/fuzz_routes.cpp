// libFuzzer target: route matching (http/routes.cpp) and the list query parser
// (http/requests.cpp). The input is "METHOD\nPATH" or, after a second and third
// newline, "user_id\nlimit\noffset" for parse_list_query. Properties:
//  * every match carries one of the fixed metrics labels (bounded cardinality);
//  * an {id} is taken only for GET /api/v1/orders/{id} and POST .../{id}/cancel, is
//    one non-empty path segment without '/' or '?', and the id the server goes on to
//    use (normalize_uuid) is a canonical UUID by an independent check, else refused;
//  * the query string and empty segments (slashes) do not change the match;
//  * 405 exactly when another method would have matched; Allow names the methods that do;
//  * a request line with a method Pistache cannot parse (scan_foreign_method, over the
//    whole input) is found only as "TOKEN SP TARGET SP HTTP/1.x" LF at its start;
//  * an accepted list query has a canonical user_id, 1 <= limit <= 100 and
//    0 <= offset < 10^9, and agrees with a reference reading of the numbers.

#include "fuzz_support.hpp"

#include "http/connection.hpp"
#include "http/requests.hpp"
#include "http/routes.hpp"
#include "messages/uuid.hpp"

#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <variant>

using namespace flashsale;
using namespace flashsale::http;
using flashsale::fuzz::shown;

namespace {

constexpr const char* labels[] = {"/api/v1/orders", "/api/v1/orders/{id}",
                                  "/api/v1/orders/{id}/cancel", "/healthz", "/readyz",
                                  "/metrics", "unmatched"};

bool known_label(const char* label) {
  for (const char* l : labels)
    if (std::strcmp(l, label) == 0)
      return true;
  return false;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool reference_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i]))
      return false;
  }
  return true;
}

bool same(const route_match& a, const route_match& b) {
  return a.id == b.id && a.order_id == b.order_id && std::strcmp(a.label, b.label) == 0
         && std::strcmp(a.allow, b.allow) == 0;
}

std::string show(const route_match& m) {
  return std::to_string(static_cast<int>(m.id)) + " " + m.label + " id=" + shown(m.order_id);
}

void check_route(std::string_view method, std::string_view path) {
  auto m = match_route(method, path);
  auto where = shown(method) + " " + shown(path) + " -> " + show(m);
  FUZZ_CHECK(known_label(m.label), where);
  bool takes_id = m.id == route_id::get_order || m.id == route_id::cancel_order;
  FUZZ_CHECK(takes_id != m.order_id.empty(), "id taken iff a route with {id}: " + where);
  if (takes_id) {
    FUZZ_CHECK(m.order_id.find_first_of("/?") == std::string::npos, "id with / or ?: " + where);
    FUZZ_CHECK(path.find("/" + m.order_id) != std::string_view::npos, "id not in path: " + where);
    FUZZ_CHECK(method == (m.id == route_id::get_order ? "GET" : "POST"), "method: " + where);
    auto id = normalize_uuid(m.order_id);
    FUZZ_CHECK(id.has_value() == reference_uuid(m.order_id), "uuid verdict: " + where);
    if (id)
      FUZZ_CHECK(reference_uuid(*id) && id->find_first_of("ABCDEF") == std::string::npos,
                 "normalised id " + shown(*id));
  }
  if (m.id == route_id::create_order)
    FUZZ_CHECK(method == "POST", where);
  if (m.id == route_id::list_orders || m.id == route_id::healthz || m.id == route_id::readyz
      || m.id == route_id::metrics)
    FUZZ_CHECK(method == "GET", where);

  // Metamorphic: the query and extra slashes are invisible to routing.
  std::string p{path.substr(0, path.find('?'))};
  FUZZ_CHECK(same(m, match_route(method, p + "?x=1")), "query changes the match: " + where);
  FUZZ_CHECK(same(m, match_route(method, p + "/")), "trailing / changes the match: " + where);
  FUZZ_CHECK(same(m, match_route(method, "/" + p)), "leading / changes the match: " + where);

  // 405 iff some other method matches this path.
  bool other = false;
  for (const char* alt : {"GET", "POST"}) {
    auto a = match_route(alt, path);
    other = other || (a.id != route_id::not_found && a.id != route_id::method_not_allowed);
  }
  if (m.id == route_id::method_not_allowed)
    FUZZ_CHECK(other, "405 but no method matches: " + where);
  if (m.id == route_id::not_found)
    FUZZ_CHECK(!other, "404 but another method matches: " + where);

  // Allow (a 405's header) names exactly the methods that match this path.
  std::string expected;
  for (const char* alt : {"GET", "POST"}) {
    auto a = match_route(alt, path);
    if (a.id != route_id::not_found && a.id != route_id::method_not_allowed)
      expected += (expected.empty() ? "" : ", ") + std::string{alt};
  }
  FUZZ_CHECK(m.allow == expected, "Allow " + shown(m.allow) + ", expected " + shown(expected)
                                    + ": " + where);
}

bool tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}

/// scan_foreign_method over the raw input as the bytes buffered for a request line: a
/// complete finding is "METHOD SP TARGET SP HTTP/1.x" then LF at the start of the input,
/// with a token method Pistache does not know and a target without controls or spaces.
void check_request_line(std::string_view input) {
  auto line = scan_foreign_method(input);
  using found = foreign_method_line::state;
  if (line.found == found::none)
    return;
  auto where = shown(input) + " -> " + shown(line.method) + " " + shown(line.target);
  FUZZ_CHECK(!line.method.empty() && input.substr(0, line.method.size()) == line.method
               && input.size() > line.method.size() && input[line.method.size()] == ' ',
             "method not at the start: " + where);
  for (char c : line.method)
    FUZZ_CHECK(c != '\0' && tchar(c), "method is no token: " + where);
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE",
                            "CONNECT"})
    FUZZ_CHECK(line.method != known, "a method Pistache knows: " + where);
  if (line.found == found::incomplete) {
    FUZZ_CHECK(input.find('\n') == std::string_view::npos, "incomplete with a LF: " + where);
    return;
  }
  auto rest = input.substr(line.method.size() + 1);
  FUZZ_CHECK(!line.target.empty() && rest.substr(0, line.target.size()) == line.target,
             "target not after the method: " + where);
  for (char c : line.target)
    FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "target byte: " + where);
  auto version = rest.substr(line.target.size());
  FUZZ_CHECK(version.rfind(" HTTP/1.1", 0) == 0 || version.rfind(" HTTP/1.0", 0) == 0,
             "no version after the target: " + where);
  auto end = version.substr(9);
  FUZZ_CHECK(end.rfind("\n", 0) == 0 || end.rfind("\r\n", 0) == 0, "no line end: " + where);
}

/// A whole decimal integer, optional '-', as a 128-bit value (saturating); nullopt if
/// it is not one.
std::optional<__int128> reference_int(const std::string& s) {
  std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  if (i == s.size())
    return std::nullopt;
  __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      return std::nullopt;
    v = v < (__int128{1} << 100) ? v * 10 + (s[i] - '0') : v;
  }
  return s[0] == '-' ? -v : v;
}

void check_list_query(const std::string& user, const std::string& limit, const std::string& offset,
                      bool has_limit, bool has_offset) {
  auto q = parse_list_query(user, has_limit ? std::optional<std::string>{limit} : std::nullopt,
                            has_offset ? std::optional<std::string>{offset} : std::nullopt);
  auto where = shown(user) + " limit=" + shown(limit) + " offset=" + shown(offset);
  auto lim = reference_int(limit);
  auto off = reference_int(offset);
  bool ok = reference_uuid(user) && (!has_limit || (lim && *lim >= 1 && *lim <= 100))
            && (!has_offset || (off && *off >= 0 && *off < 1'000'000'000));
  FUZZ_CHECK(std::holds_alternative<list_query>(q) == ok,
             "list query verdict: " + where
               + (ok ? std::string{" refused: "} + std::get<api_error>(q).message : " accepted"));
  if (auto* lq = std::get_if<list_query>(&q)) {
    FUZZ_CHECK(reference_uuid(lq->user_id) && lq->user_id == *normalize_uuid(user), where);
    if (has_limit)
      FUZZ_CHECK(lq->limit == static_cast<int>(*lim), where);
    if (has_offset)
      FUZZ_CHECK(lq->offset == static_cast<std::int64_t>(*off), where);
  } else {
    auto code = std::get<api_error>(q).code;
    FUZZ_CHECK(code == error_code::invalid_request || code == error_code::validation_failed, where);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  std::string_view method = nl == std::string_view::npos ? "GET" : input.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? input : input.substr(nl + 1);
  auto nl2 = rest.find('\n');
  std::string_view path = rest.substr(0, nl2);
  check_route(method, path);
  check_request_line(input);
  if (nl2 != std::string_view::npos) {
    std::string_view q = rest.substr(nl2 + 1);
    auto a = q.find('\n');
    std::string user{q.substr(0, a)};
    std::string limit;
    std::string offset;
    bool has_limit = a != std::string_view::npos;
    bool has_offset = false;
    if (has_limit) {
      auto r = q.substr(a + 1);
      auto b = r.find('\n');
      limit = std::string{r.substr(0, b)};
      has_offset = b != std::string_view::npos;
      if (has_offset)
        offset = std::string{r.substr(b + 1)};
    }
    check_list_query(user, limit, offset, has_limit, has_offset);
  }
  return 0;
}
