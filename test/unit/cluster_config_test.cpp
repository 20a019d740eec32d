// CLUSTER_TLS_* and CLUSTER_INSECURE (CONTRACT §2, §7): all three PEM paths or none,
// each a readable PEM file, and one line naming the variable otherwise.

#include "app/config.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

using namespace flashsale;

namespace {

using vars = std::map<std::string, std::string>;

vars base() {
  return {{"DATABASE_URL", "postgresql://u@localhost/orders"}, {"KAFKA_BROKERS", "localhost:9092"}};
}

std::variant<config, std::string> load(const vars& changes) {
  auto v = base();
  for (const auto& [k, value] : changes)
    v[k] = value;
  return load_config([v](const std::string& name) -> std::optional<std::string> {
    auto i = v.find(name);
    if (i == v.end())
      return std::nullopt;
    return i->second;
  });
}

void fails_naming(const vars& changes, const std::string& variable) {
  auto r = load(changes);
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(r), "no error for " << variable);
  const auto& line = std::get<std::string>(r);
  BOOST_TEST(line.find(variable) != std::string::npos, line);
  BOOST_TEST(line.find('\n') == std::string::npos, line);
}

struct pem_file {
  std::string path;
  explicit pem_file(const std::string& content) {
    path = "/tmp/fs-cluster-config-" + std::to_string(getpid()) + "-"
           + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".pem";
    std::ofstream{path} << content;
  }
  ~pem_file() { std::remove(path.c_str()); }
};

const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_config_suite)

BOOST_AUTO_TEST_CASE(tls_off_by_default) {
  auto c = std::get<config>(load({}));
  BOOST_TEST(c.cluster_tls_ca.empty());
  BOOST_TEST(c.cluster_tls_cert.empty());
  BOOST_TEST(c.cluster_tls_key.empty());
  BOOST_TEST(!c.cluster_insecure);
}

BOOST_AUTO_TEST_CASE(all_three_pem_files) {
  pem_file ca{pem}, cert{pem}, key{pem};
  auto c = std::get<config>(
    load({{"CLUSTER_TLS_CA", ca.path}, {"CLUSTER_TLS_CERT", cert.path}, {"CLUSTER_TLS_KEY", key.path}}));
  BOOST_TEST(c.cluster_tls_ca == ca.path);
  BOOST_TEST(c.cluster_tls_cert == cert.path);
  BOOST_TEST(c.cluster_tls_key == key.path);
}

BOOST_AUTO_TEST_CASE(one_missing_names_it) {
  pem_file ca{pem}, cert{pem};
  fails_naming({{"CLUSTER_TLS_CA", ca.path}, {"CLUSTER_TLS_CERT", cert.path}}, "CLUSTER_TLS_KEY");
  fails_naming({{"CLUSTER_TLS_CERT", cert.path}}, "CLUSTER_TLS_CA");
}

BOOST_AUTO_TEST_CASE(unreadable_or_not_pem_names_it) {
  pem_file ok{pem}, junk{"not a certificate\n"};
  fails_naming({{"CLUSTER_TLS_CA", "/nonexistent/ca.pem"}, {"CLUSTER_TLS_CERT", ok.path},
                {"CLUSTER_TLS_KEY", ok.path}},
               "CLUSTER_TLS_CA");
  fails_naming({{"CLUSTER_TLS_CA", ok.path}, {"CLUSTER_TLS_CERT", junk.path},
                {"CLUSTER_TLS_KEY", ok.path}},
               "CLUSTER_TLS_CERT");
  fails_naming({{"CLUSTER_TLS_CA", ok.path}, {"CLUSTER_TLS_CERT", ok.path},
                {"CLUSTER_TLS_KEY", "/tmp"}},
               "CLUSTER_TLS_KEY");
}

BOOST_AUTO_TEST_CASE(insecure_flag) {
  BOOST_TEST(std::get<config>(load({{"CLUSTER_INSECURE", "1"}})).cluster_insecure);
  BOOST_TEST(!std::get<config>(load({{"CLUSTER_INSECURE", "0"}})).cluster_insecure);
  fails_naming({{"CLUSTER_INSECURE", "yes"}}, "CLUSTER_INSECURE");
}

BOOST_AUTO_TEST_SUITE_END()
