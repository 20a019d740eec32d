#include "http/routes.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <vector>

using namespace flashsale::http;

namespace flashsale::http {
// Lets BOOST_TEST print a route_id when a comparison fails.
std::ostream& operator<<(std::ostream& out, route_id id) {
  return out << static_cast<int>(id);
}
} // namespace flashsale::http

namespace {

const std::string id = "0190a6e4-8c1a-7b3c-9d2e-1f2a3b4c5d6e";

void check(std::string_view method, std::string_view path, route_id expected,
           std::string_view label, const std::string& order_id = {}) {
  auto m = match_route(method, path);
  BOOST_TEST_CONTEXT(method << " " << path) {
    BOOST_TEST(m.id == expected);
    BOOST_TEST(std::string_view{m.label} == label);
    BOOST_TEST(m.order_id == order_id);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_routes)

BOOST_AUTO_TEST_CASE(every_route_of_the_contract) {
  check("POST", "/api/v1/orders", route_id::create_order, "/api/v1/orders");
  check("GET", "/api/v1/orders", route_id::list_orders, "/api/v1/orders");
  check("GET", "/api/v1/orders/" + id, route_id::get_order, "/api/v1/orders/{id}", id);
  check("POST", "/api/v1/orders/" + id + "/cancel", route_id::cancel_order,
        "/api/v1/orders/{id}/cancel", id);
  check("GET", "/healthz", route_id::healthz, "/healthz");
  check("GET", "/readyz", route_id::readyz, "/readyz");
  check("GET", "/metrics", route_id::metrics, "/metrics");
}

BOOST_AUTO_TEST_CASE(create_alias) {
  check("POST", "/api/v1/orders/order", route_id::create_order, "/api/v1/orders");
  check("POST", "/api/v1/orders/order/", route_id::create_order, "/api/v1/orders");
  check("POST", "/api/v1/orders/order?x=1", route_id::create_order, "/api/v1/orders");
  // The alias is a create endpoint only, not an order called "order".
  check("GET", "/api/v1/orders/order", route_id::method_not_allowed, "/api/v1/orders");
}

BOOST_AUTO_TEST_CASE(the_id_segment_is_passed_on_raw) {
  // Validation of the id is the handler's job (400 INVALID_REQUEST), not the router's.
  check("GET", "/api/v1/orders/not-a-uuid", route_id::get_order, "/api/v1/orders/{id}",
        "not-a-uuid");
  check("POST", "/api/v1/orders/ABC/cancel", route_id::cancel_order, "/api/v1/orders/{id}/cancel",
        "ABC");
}

BOOST_AUTO_TEST_CASE(trailing_slashes) {
  check("POST", "/api/v1/orders/", route_id::create_order, "/api/v1/orders");
  check("GET", "/api/v1/orders/", route_id::list_orders, "/api/v1/orders");
  check("GET", "/api/v1/orders/" + id + "/", route_id::get_order, "/api/v1/orders/{id}", id);
  check("POST", "/api/v1/orders/" + id + "/cancel/", route_id::cancel_order,
        "/api/v1/orders/{id}/cancel", id);
  check("GET", "/healthz/", route_id::healthz, "/healthz");
  check("GET", "/readyz/", route_id::readyz, "/readyz");
  check("GET", "/metrics/", route_id::metrics, "/metrics");
}

BOOST_AUTO_TEST_CASE(query_strings_are_ignored) {
  check("GET", "/api/v1/orders?user_id=" + id + "&limit=5", route_id::list_orders,
        "/api/v1/orders");
  check("GET", "/api/v1/orders/?user_id=" + id, route_id::list_orders, "/api/v1/orders");
  check("GET", "/api/v1/orders/" + id + "?verbose=1", route_id::get_order, "/api/v1/orders/{id}",
        id);
  check("POST", "/api/v1/orders/" + id + "/cancel?a=/b/c", route_id::cancel_order,
        "/api/v1/orders/{id}/cancel", id);
  check("GET", "/healthz?", route_id::healthz, "/healthz");
  check("GET", "/metrics?name[]=x", route_id::metrics, "/metrics");
  // A path in the query string does not make a route.
  check("GET", "/?/healthz", route_id::not_found, "unmatched");
}

BOOST_AUTO_TEST_CASE(unknown_paths_are_not_found) {
  const std::vector<std::string> paths = {"/",
                                          "/api",
                                          "/api/v1",
                                          "/api/v2/orders",
                                          "/api/v1/order",
                                          "/api/v1/orders/" + id + "/pay",
                                          "/api/v1/orders/" + id + "/cancel/now",
                                          "/api/v1/orders/a/b/c/d",
                                          "/healthzz",
                                          "/health",
                                          "/metrics/x",
                                          "/readyz/now",
                                          "/API/V1/ORDERS",
                                          "/v1/orders",
                                          "/x/api/v1/orders",
                                          "/api/v1/orders/%2F/cancel/x"};
  for (const auto& path : paths)
    for (const char* method : {"GET", "POST", "DELETE"})
      check(method, path, route_id::not_found, "unmatched");
}

BOOST_AUTO_TEST_CASE(wrong_methods_are_method_not_allowed) {
  for (const char* method : {"PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    check(method, "/api/v1/orders", route_id::method_not_allowed, "/api/v1/orders");
    check(method, "/api/v1/orders/" + id, route_id::method_not_allowed, "/api/v1/orders/{id}");
    check(method, "/api/v1/orders/" + id + "/cancel", route_id::method_not_allowed,
          "/api/v1/orders/{id}/cancel");
    check(method, "/healthz", route_id::method_not_allowed, "/healthz");
  }
  check("POST", "/api/v1/orders/" + id, route_id::method_not_allowed, "/api/v1/orders/{id}");
  check("GET", "/api/v1/orders/" + id + "/cancel", route_id::method_not_allowed,
        "/api/v1/orders/{id}/cancel");
  check("POST", "/healthz", route_id::method_not_allowed, "/healthz");
  check("POST", "/readyz", route_id::method_not_allowed, "/readyz");
  check("POST", "/metrics", route_id::method_not_allowed, "/metrics");
  // Methods are case-sensitive (RFC 9110 §9.1).
  check("get", "/healthz", route_id::method_not_allowed, "/healthz");
  check("", "/healthz", route_id::method_not_allowed, "/healthz");
}

// A 405 carries Allow with the path's methods (RFC 9110 §15.5.6); every matched path knows
// them, whichever method came.
BOOST_AUTO_TEST_CASE(matched_paths_name_their_methods_for_allow) {
  auto allow = [](std::string_view method, std::string_view path) {
    return std::string{match_route(method, path).allow};
  };
  for (const char* method : {"GET", "POST", "PUT", "TRACE"}) {
    BOOST_TEST_CONTEXT(method) {
      BOOST_TEST(allow(method, "/api/v1/orders") == "GET, POST");
      BOOST_TEST(allow(method, "/api/v1/orders/order") == "POST");
      BOOST_TEST(allow(method, "/api/v1/orders/" + id) == "GET");
      BOOST_TEST(allow(method, "/api/v1/orders/" + id + "/cancel") == "POST");
      BOOST_TEST(allow(method, "/healthz") == "GET");
      BOOST_TEST(allow(method, "/readyz") == "GET");
      BOOST_TEST(allow(method, "/metrics?x=1") == "GET");
      BOOST_TEST(allow(method, "/nope") == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_path) {
  check("GET", "", route_id::not_found, "unmatched");
  check("POST", "", route_id::not_found, "unmatched");
  check("GET", "?", route_id::not_found, "unmatched");
  check("GET", "/", route_id::not_found, "unmatched");
  check("GET", "///", route_id::not_found, "unmatched");
}

BOOST_AUTO_TEST_CASE(empty_segments_collapse) {
  // `//` is read as `/`, the way nginx' merge_slashes does: no route hides behind it.
  check("GET", "//healthz", route_id::healthz, "/healthz");
  check("GET", "/api//v1/orders", route_id::list_orders, "/api/v1/orders");
  check("GET", "/api/v1/orders//" + id, route_id::get_order, "/api/v1/orders/{id}", id);
  check("POST", "/api/v1/orders/" + id + "//cancel", route_id::cancel_order,
        "/api/v1/orders/{id}/cancel", id);
  check("POST", "//api//v1//orders//", route_id::create_order, "/api/v1/orders");
}

BOOST_AUTO_TEST_CASE(very_long_paths) {
  const std::string long_id(100'000, 'a');
  check("GET", "/api/v1/orders/" + long_id, route_id::get_order, "/api/v1/orders/{id}", long_id);
  check("GET", "/api/v1/orders/" + long_id + "/x", route_id::not_found, "unmatched");

  std::string many_segments;
  for (int i = 0; i < 20'000; ++i)
    many_segments += "/a";
  check("GET", many_segments, route_id::not_found, "unmatched");
  check("GET", "/api/v1/orders" + many_segments, route_id::not_found, "unmatched");
  check("GET", std::string(100'000, '/') + "healthz", route_id::healthz, "/healthz");
  check("GET", "/healthz?" + std::string(100'000, 'q'), route_id::healthz, "/healthz");
}

BOOST_AUTO_TEST_CASE(labels_have_bounded_cardinality) {
  // Two different ids share one metrics label.
  auto a = match_route("GET", "/api/v1/orders/" + id);
  auto b = match_route("GET", "/api/v1/orders/7c9e6679-7425-40de-944b-e07fc1f90ae7");
  BOOST_TEST(std::string_view{a.label} == std::string_view{b.label});
  auto c = match_route("GET", "/random/" + id);
  BOOST_TEST(std::string_view{c.label} == "unmatched");
}

BOOST_AUTO_TEST_SUITE_END()
