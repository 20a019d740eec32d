#pragma once
// Maps a method and a path to a route. Pure: unit tested without a server.

#include <string>
#include <string_view>

namespace flashsale::http {

enum class route_id {
  create_order,
  list_orders,
  get_order,
  cancel_order,
  healthz,
  readyz,
  metrics,
  not_found,
  method_not_allowed,
};

struct route_match {
  route_id id = route_id::not_found;
  std::string order_id; // the raw {id} path segment, unvalidated
  const char* label = "unmatched"; // the metrics label, bounded cardinality
  const char* allow = "";          // the path's methods, for a 405's Allow (RFC 9110 §10.2.1)
};

route_match match_route(std::string_view method, std::string_view path);

} // namespace flashsale::http
