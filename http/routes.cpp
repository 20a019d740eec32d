#include "http/routes.hpp"

#include <vector>

namespace flashsale::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    if (end > start)
      parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

route_match only(std::string_view method, const char* allowed, route_id id, const char* label,
                 std::string order_id = {}) {
  if (method != allowed)
    return {route_id::method_not_allowed, {}, label, allowed};
  return {id, std::move(order_id), label, allowed};
}

route_match match_orders(std::string_view method, const std::vector<std::string_view>& p) {
  if (p.size() == 3) {
    constexpr const char* both = "GET, POST";
    if (method == "POST")
      return {route_id::create_order, {}, "/api/v1/orders", both};
    if (method == "GET")
      return {route_id::list_orders, {}, "/api/v1/orders", both};
    return {route_id::method_not_allowed, {}, "/api/v1/orders", both};
  }
  if (p.size() == 4 && p[3] == "order")
    return only(method, "POST", route_id::create_order, "/api/v1/orders");
  if (p.size() == 4)
    return only(method, "GET", route_id::get_order, "/api/v1/orders/{id}", std::string{p[3]});
  if (p.size() == 5 && p[4] == "cancel")
    return only(method, "POST", route_id::cancel_order, "/api/v1/orders/{id}/cancel",
                std::string{p[3]});
  return {};
}

} // namespace

route_match match_route(std::string_view method, std::string_view path) {
  auto p = split_path(path.substr(0, path.find('?')));
  if (p.size() == 1 && p[0] == "healthz")
    return only(method, "GET", route_id::healthz, "/healthz");
  if (p.size() == 1 && p[0] == "readyz")
    return only(method, "GET", route_id::readyz, "/readyz");
  if (p.size() == 1 && p[0] == "metrics")
    return only(method, "GET", route_id::metrics, "/metrics");
  if (p.size() >= 3 && p[0] == "api" && p[1] == "v1" && p[2] == "orders")
    return match_orders(method, p);
  return {};
}

} // namespace flashsale::http
