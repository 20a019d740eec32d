#include "http/connection.hpp"

#include <array>

namespace flashsale::http {

namespace {

// tchar of RFC 9110 §5.6.2.
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
    return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!is_tchar(c))
      return false;
  return true;
}

// The methods Pistache 0.0.5 parses (HTTP_METHODS in pistache/http_defs.h).
bool pistache_knows(std::string_view method) {
  constexpr std::array<std::string_view, 9> known{"OPTIONS", "GET",   "POST",  "HEAD",   "PUT",
                                                  "PATCH",   "DELETE", "TRACE", "CONNECT"};
  for (auto k : known)
    if (k == method)
      return true;
  return false;
}

} // namespace

foreign_method_line scan_foreign_method(std::string_view buffered) {
  using state = foreign_method_line::state;
  auto sp = buffered.find(' ');
  if (sp == std::string_view::npos)
    return {};
  auto method = buffered.substr(0, sp);
  if (!is_token(method) || pistache_knows(method))
    return {};
  auto eol = buffered.find('\n', sp + 1);
  if (eol == std::string_view::npos)
    return {state::incomplete, method, {}};
  auto rest = buffered.substr(sp + 1, eol - sp - 1);
  if (!rest.empty() && rest.back() == '\r')
    rest.remove_suffix(1);
  auto sp2 = rest.find(' ');
  if (sp2 == 0 || sp2 == std::string_view::npos)
    return {};
  auto target = rest.substr(0, sp2);
  auto version = rest.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return {};
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return {};
  return {state::complete, method, target};
}

bool keeps_connection(http_version version, connection_option option) {
  switch (option) {
    case connection_option::close:
      return false;
    case connection_option::keep_alive:
      return true;
    case connection_option::absent:
    case connection_option::other:
      break;
  }
  return version == http_version::http_1_1;
}

} // namespace flashsale::http
